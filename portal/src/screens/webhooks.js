// Webhooks (the owner or an admin): endpoints of the workshop's partner systems that take its facts, signed as
// Standard Webhooks says; the signing secret shown when made and when rotated; each endpoint's deliveries with
// every attempt and the receiver's answer, and a delivery sent again by hand.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { api, useApi } from '../api.js';
import { N_, t } from '../i18n.js';
import { ErrorBanner, Field, Notice, Page, useAction } from '../ui.js';

const STATES = { active: N_('active'), disabled: N_('disabled'), pending: N_('pending'), delivered: N_('delivered'),
  failed: N_('failed') };

function when(instant) {
  return instant ? new Date(instant).toLocaleString() : '–';
}

export function Webhooks() {
  const hooks = useApi('/webhooks');
  const { error, run } = useAction();
  const [secret, setSecret] = useState(null);
  const [open, setOpen] = useState(null);
  const [rowError, setRowError] = useState(null);
  const create = async (event) => {
    event.preventDefault();
    const form = event.target;
    const types = [...form.querySelectorAll('input[name="event-type"]:checked')].map((box) => box.value);
    const made = await run(() => api('POST', '/webhooks', { body: { url: form.elements.url.value,
      description: form.elements.description.value, event_types: types } }));
    if (made) {
      setSecret({ url: made.url, secret: made.secret });
      form.reset();
      hooks.reload();
    }
  };
  async function act(endpoint, method, path, body) {
    setRowError(null);
    try {
      const answer = await api(method, `/webhooks/${endpoint.id}${path}`, body ? { body } : {});
      if (answer && answer.secret) setSecret({ url: endpoint.url, secret: answer.secret });
    } catch (exc) { setRowError({ endpoint: endpoint.id, error: exc }); }
    hooks.reload();
  }
  const typeProblems = error && error.fields && error.fields.event_types;
  return html`<${Page} title=${t('Webhooks')} wide>
    <p>${t('A webhook sends your workshop\'s facts (purchases, sessions, jobs, parts requests) to a partner system as they happen, each signed with the endpoint\'s secret as the Standard Webhooks specification says.')}</p>
    <${ErrorBanner} error=${hooks.error} />
    ${secret && html`<${Notice} kind="success"><p>${t('The signing secret of {url}. Copy it into the receiver now: it is not shown again.', { url: secret.url })}</p>
      <p><code class="link-text" data-testid="webhook-secret">${secret.secret}</code></p></${Notice}>`}
    ${hooks.data && (hooks.data.endpoints.length === 0 ? html`<p>${t('Your workshop has no webhook endpoints yet.')}</p>`
      : html`<div class="table-wrap" tabindex="0" role="region" aria-label=${t('Webhook endpoints')}><table>
      <thead><tr><th scope="col">${t('Address')}</th><th scope="col">${t('Event types')}</th><th scope="col">${t('Status')}</th>
        <th scope="col">${t('Last delivered')}</th><th scope="col">${t('Actions')}</th></tr></thead>
      <tbody>${hooks.data.endpoints.map((e) => html`<tr data-endpoint=${e.url}>
        <th scope="row"><code>${e.url}</code>${e.description && html`<br /><small>${e.description}</small>`}</th>
        <td>${e.event_types.join(', ')}</td>
        <td data-testid="endpoint-state">${t(STATES[e.state])}${e.disabled_reason && html`<br /><small>${e.disabled_reason}</small>`}</td>
        <td>${when(e.last_success_at)}</td>
        <td><button type="button" onClick=${() => setOpen(open === e.id ? null : e.id)} aria-expanded=${open === e.id}>${t('Deliveries of {url}', { url: e.url })}</button>
          ${' '}<button type="button" onClick=${() => act(e, 'POST', '/rotate')}>${t('New secret for {url}', { url: e.url })}</button>
          ${' '}<button type="button" onClick=${() => act(e, 'PATCH', '', { enabled: e.state !== 'active' })}>${e.state === 'active' ? t('Disable {url}', { url: e.url }) : t('Enable {url}', { url: e.url })}</button>
          ${rowError && rowError.endpoint === e.id && html`<${ErrorBanner} error=${rowError.error} />`}</td>
      </tr>`)}</tbody></table></div>`)}
    ${open && html`<${Deliveries} endpoint=${open} />`}
    <section aria-labelledby="new-endpoint"><h2 id="new-endpoint">${t('Add an endpoint')}</h2>
      <form onSubmit=${create} novalidate>
        <${Field} label=${t('Address (https://)')} name="url" type="url" error=${error} required />
        <${Field} label=${t('What it is for')} name="description" error=${error} />
        <fieldset class=${typeProblems ? 'invalid' : ''} aria-describedby=${typeProblems ? 'types-error' : undefined}>
          <legend>${t('Event types it takes')}</legend>
          <div class="event-types">${hooks.data && hooks.data.event_types.map((type) => html`<label class="check">
            <input type="checkbox" name="event-type" value=${type} /> ${type}</label>`)}</div>
          ${typeProblems && html`<small id="types-error" class="field-error">${t('Choose at least one.')}</small>`}
        </fieldset>
        <button type="submit">${t('Add the endpoint')}</button>
      </form>
      <${ErrorBanner} error=${error} />
    </section>
  </${Page}>`;
}

function Deliveries({ endpoint }) {
  const log = useApi(`/webhooks/${endpoint}/deliveries`);
  const [sent, setSent] = useState(null);
  async function redeliver(delivery) {
    await api('POST', `/webhooks/${endpoint}/deliveries/${delivery.id}/redeliver`);
    setSent(delivery.id);
    log.reload();
  }
  return html`<section aria-labelledby="deliveries"><h2 id="deliveries">${t('Deliveries')}</h2>
    <${ErrorBanner} error=${log.error} />
    ${sent && html`<${Notice}><p>${t('Sent again: {id}', { id: sent })}</p></${Notice}>`}
    ${log.data && (log.data.deliveries.length === 0 ? html`<p>${t('Nothing sent yet.')}</p>`
      : html`<div class="table-wrap" tabindex="0" role="region" aria-label=${t('Deliveries')}><table data-testid="deliveries">
      <thead><tr><th scope="col">${t('Event')}</th><th scope="col">${t('Made')}</th><th scope="col">${t('Status')}</th>
        <th scope="col">${t('Attempts')}</th><th scope="col">${t('Actions')}</th></tr></thead>
      <tbody>${log.data.deliveries.map((d) => html`<tr>
        <th scope="row">${d.event_type}<br /><small><code>${d.id}</code></small></th><td>${when(d.created_at)}</td>
        <td>${t(STATES[d.status])}</td>
        <td><ul class="attempts">${d.attempts.map((a) => html`<li>${when(a.attempted_at)}: ${a.status_code != null ? a.status_code : a.error} (${a.duration_ms} ms)</li>`)}</ul></td>
        <td><button type="button" onClick=${() => redeliver(d)}>${t('Send {id} again', { id: d.id })}</button></td>
      </tr>`)}</tbody></table></div>`)}
  </section>`;
}
