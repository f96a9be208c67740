// API keys (the owner or an admin): a key for each tool or partner system that reads the workshop's data, with the
// scopes it may read and the days it lives; the key itself is shown once. The list says when each was last used
// and how many requests it made per day; a key is revoked at once.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { api, useApi } from '../api.js';
import { N_, t } from '../i18n.js';
import { ErrorBanner, Field, Notice, Page, useAction } from '../ui.js';

const SCOPES = { air: N_('Technical information'), vehicles: N_('Vehicle data'), parts: N_('Parts'),
  diagnostics: N_('Diagnostic descriptions'), events: N_('Events') };
const STATES = { active: N_('active'), expired: N_('expired'), revoked: N_('revoked') };

function when(instant) {
  return instant ? new Date(instant).toLocaleString() : t('never');
}

export function ApiKeys() {
  const keys = useApi('/keys');
  const { error, run } = useAction();
  const [made, setMade] = useState(null);
  const [rowError, setRowError] = useState(null);
  const create = async (event) => {
    event.preventDefault();
    const form = event.target;
    const scopes = Object.keys(SCOPES).filter((scope) => form.elements['scope-' + scope].checked);
    const days = form.elements.expires_in_days.value;
    const body = { name: form.elements.name.value, scopes, ...(days === '' ? {} : { expires_in_days: Number(days) }) };
    const key = await run(() => api('POST', '/keys', { body }));
    if (key) {
      setMade(key);
      form.reset();
      keys.reload();
    }
  };
  async function revoke(key) {
    setRowError(null);
    try { await api('DELETE', `/keys/${key.id}`); } catch (exc) { setRowError({ key: key.id, error: exc }); }
    keys.reload();
  }
  const scopeProblems = error && error.fields && error.fields.scopes;
  return html`<${Page} title=${t('API keys')} wide>
    <p>${t('A key lets a tool or a partner system read your workshop\'s data over the HTTP API, as far as your subscriptions open it. Send it as "Authorization: Bearer" followed by the key.')}</p>
    <${ErrorBanner} error=${keys.error} />
    ${keys.data && (keys.data.keys.length === 0 ? html`<p>${t('Your workshop has no API keys yet.')}</p>`
      : html`<div class="table-wrap" tabindex="0" role="region" aria-label=${t('API keys')}><table>
      <thead><tr><th scope="col">${t('Name')}</th><th scope="col">${t('Key starts with')}</th><th scope="col">${t('Scopes')}</th>
        <th scope="col">${t('Status')}</th><th scope="col">${t('Expires')}</th><th scope="col">${t('Last used')}</th>
        <th scope="col">${t('Requests today')}</th><th scope="col">${t('Actions')}</th></tr></thead>
      <tbody>${keys.data.keys.map((k) => html`<tr data-key=${k.name}>
        <th scope="row">${k.name}</th><td><code>${k.prefix}…</code></td>
        <td>${k.scopes.map((s) => t(SCOPES[s] || s)).join(', ')}</td>
        <td data-testid="key-state">${t(STATES[k.state] || k.state)}</td>
        <td>${new Date(k.expires_at).toLocaleDateString()}</td>
        <td>${when(k.last_used_at)}</td>
        <td data-testid="key-requests" title=${k.usage.map((u) => `${u.day}: ${u.requests}`).join('\n')}>${k.usage[k.usage.length - 1].requests}</td>
        <td>${k.state === 'revoked' ? '' : html`<button type="button" onClick=${() => revoke(k)}>${t('Revoke {name}', { name: k.name })}</button>`}
          ${rowError && rowError.key === k.id && html`<${ErrorBanner} error=${rowError.error} />`}</td>
      </tr>`)}</tbody></table></div>`)}
    <section aria-labelledby="new-key"><h2 id="new-key">${t('Create a key')}</h2>
      <form onSubmit=${create} novalidate>
        <${Field} label=${t('What it is for')} name="name" error=${error} required hint=${t('e.g. the diagnosis tool in bay 2')} />
        <fieldset class=${scopeProblems ? 'invalid' : ''} aria-describedby=${scopeProblems ? 'scopes-error' : undefined}>
          <legend>${t('What it may read')}</legend>
          ${Object.entries(SCOPES).map(([scope, label]) => html`<label class="check"><input type="checkbox" name=${'scope-' + scope} />
            ${' '}${t(label)}</label>`)}
          ${scopeProblems && html`<small id="scopes-error" class="field-error">${t('Choose at least one.')}</small>`}
        </fieldset>
        <${Field} label=${t('Days it lives')} name="expires_in_days" type="number" min="1" max="366" value="90" error=${error} />
        <button type="submit">${t('Create the key')}</button>
      </form>
      <${ErrorBanner} error=${error} />
      ${made && html`<${Notice} kind="success"><p>${t('The key "{name}" is made. Copy it now: it is not shown again.', { name: made.name })}</p>
        <p><code class="link-text" data-testid="new-key">${made.key}</code></p></${Notice}>`}
    </section>
  </${Page}>`;
}
