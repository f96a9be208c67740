// Users (the owner): invite a colleague with a role, change roles, grant spending rights, reset a lost second
// factor, deactivate.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { api, useApi, useSession } from '../api.js';
import { N_, t } from '../i18n.js';
import { ErrorBanner, Field, formValues, Notice, Page, useAction } from '../ui.js';

const ROLES = { owner: N_('Owner'), admin: N_('Administrator'), technician: N_('Technician') };

export function Users() {
  const session = useSession();
  const operator = session.me.operator.id;
  const users = useApi(`/operators/${operator}/users`);
  const { error, run } = useAction();
  const [rowError, setRowError] = useState(null);
  const [invited, setInvited] = useState(null);
  const invite = async (event) => {
    event.preventDefault();
    const form = event.target;
    const invitation = await run(() => api('POST', `/operators/${operator}/users`, { body: formValues(form) }));
    if (invitation) {
      setInvited(invitation);
      form.reset();
      users.reload();
    }
  };
  async function change(user, body) {
    setRowError(null);
    try { await api('PATCH', `/operators/${operator}/users/${user.id}`, { body }); } catch (exc) { setRowError({ user: user.id, error: exc }); }
    users.reload();
  }
  async function resetFactor(user) {
    setRowError(null);
    try { await api('POST', `/operators/${operator}/users/${user.id}/second-factor/reset`, { body: {} }); } catch (exc) { setRowError({ user: user.id, error: exc }); }
    users.reload();
  }
  const link = invited && `${location.origin}/#/invitation?token=${encodeURIComponent(invited.invitation_token)}`;
  return html`<${Page} title=${t('Users')} wide>
    <${ErrorBanner} error=${users.error} />
    ${users.data && html`<div class="table-wrap" tabindex="0" role="region" aria-label=${t('Users')}><table>
      <thead><tr><th scope="col">${t('Name')}</th><th scope="col">${t('Email')}</th><th scope="col">${t('Role')}</th><th scope="col">${t('Status')}</th><th scope="col">${t('May spend')}</th><th scope="col">${t('Actions')}</th></tr></thead>
      <tbody>${users.data.users.map((u) => html`<tr data-user=${u.email}>
        <th scope="row">${u.name}</th><td>${u.email}</td>
        <td><label class="sr-only" for=${'role-' + u.id}>${t('Role of {name}', { name: u.name })}</label>
          <select id=${'role-' + u.id} value=${u.role} onChange=${(e) => change(u, { role: e.target.value })}>
            ${Object.entries(ROLES).map(([value, label]) => html`<option value=${value}>${t(label)}</option>`)}</select>
          ${rowError && rowError.user === u.id && html`<${ErrorBanner} error=${rowError.error} />`}</td>
        <td>${!u.active ? t('deactivated') : u.status === 'invited' ? t('invited') : t('active')}</td>
        <td>${u.role === 'owner' ? t('everything') : html`<${Spending} user=${u} onChange=${(spending) => change(u, { spending })} />`}</td>
        <td><button type="button" onClick=${() => change(u, { active: !u.active })}>${u.active ? t('Deactivate') : t('Reactivate')}</button>
          ${u.second_factor !== 'none' && u.id !== session.me.user.id && html` <button type="button" onClick=${() => resetFactor(u)}>${t('Reset second factor of {name}', { name: u.name })}</button>`}</td>
      </tr>`)}</tbody></table></div>`}
    <section aria-labelledby="invite"><h2 id="invite">${t('Invite a colleague')}</h2>
      <form onSubmit=${invite} novalidate class="inline-form">
        <${Field} label=${t('Name')} name="name" error=${error} required />
        <${Field} label=${t('Email')} name="email" type="email" error=${error} required />
        <${Field} label=${t('Role')} name="role" as="select" error=${error}>
          ${Object.entries(ROLES).map(([value, label]) => html`<option value=${value} selected=${value === 'technician'}>${t(label)}</option>`)}
        </${Field}>
        <button type="submit">${t('Invite')}</button>
      </form>
      <${ErrorBanner} error=${error} />
      ${invited && html`<${Notice} kind="success"><p>${t('{name} is invited. Send them this link; it works once, until {when}:', { name: invited.user.name, when: new Date(invited.expires_at).toLocaleString() })}</p>
        <p><code class="link-text" data-testid="invitation-link">${link}</code></p>
        <p>${t('We sent it to {email} by mail as well.', { email: invited.user.email })}</p></${Notice}>`}
    </section>
  </${Page}>`;
}

// What the owner lets a user spend: buy at all, order on invoice, and a monthly budget in euros (empty: none).
function Spending({ user, onChange }) {
  const rights = user.spending;
  const budget = rights.monthly_budget_cents == null ? '' : String(rights.monthly_budget_cents / 100);
  return html`<div class="spending">
    <label><input type="checkbox" checked=${rights.may_buy} onChange=${(e) => onChange({ may_buy: e.target.checked })} />
      ${' '}${t('may buy')}<span class="sr-only"> (${user.name})</span></label>
    <label><input type="checkbox" checked=${rights.on_invoice} disabled=${!rights.may_buy}
      onChange=${(e) => onChange({ may_pay_on_invoice: e.target.checked })} />
      ${' '}${t('on invoice')}<span class="sr-only"> (${user.name})</span></label>
    <label>${t('Monthly budget of {name} in EUR', { name: user.name })}
      <input type="number" min="0" step="1" inputmode="numeric" value=${budget} disabled=${!rights.may_buy}
        onChange=${(e) => onChange({ monthly_budget_cents: e.target.value === '' ? null : Math.round(Number(e.target.value) * 100) })} /></label>
  </div>`;
}
