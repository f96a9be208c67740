// The workshop's audit trail: who read which car, bought what, flashed which ECU, newest first; filters by car,
// user, kind and dates in the address (so a filtered view can be bookmarked), and the same rows as CSV.
import { html } from 'htm/preact';
import { api, useApi, useSession } from '../api.js';
import { N_, t } from '../i18n.js';
import { download, ErrorBanner, Field, Loading, Page } from '../ui.js';

const KINDS = {
  VehicleViewed: N_('Vehicle data read'), DocumentViewed: N_('Document opened'),
  AccessPurchased: N_('Access bought'), AccessExpired: N_('Access ended'), CreditIssued: N_('Credit received'),
  AgentChanged: N_('Agent registered, renewed or revoked'),
  SessionStarted: N_('Programming started'), SessionEnded: N_('Programming ended'),
  SessionExpired: N_('Programming ran out of time'), FlashCompleted: N_('ECU flashed'),
  FlashFailed: N_('Flash failed'), SecurityKeyIssued: N_('Security key issued'),
  SecurityJobOpened: N_('Security job opened'), KeyProgrammed: N_('Key programmed'),
  GatewayUnlocked: N_('Gateway unlocked online'),
  SecurityRefused: N_('Security work refused'), TrailExported: N_('Trail exported'), GatewayUnlockIssued: N_('Gateway unlock token issued'),
  ServiceRecordAdded: N_('Service record added'), OrderPlaced: N_('Order placed'),
  OrderCancelled: N_('Order cancelled'), PaymentCaptured: N_('Order paid'), PaymentRefused: N_('Order not paid'),
  SermiLinked: N_('SERMI authorisation confirmed'), SermiRefused: N_('SERMI refused'),
  SignedIn: N_('Signed in'), SignInFailed: N_('Sign-in failed'), UserJoined: N_('User joined'), TokensRevoked: N_('Sign-in ended'), OperatorRegistered: N_('Workshop registered'),
};
const FILTERS = ['vin', 'user_id', 'kind', 'since', 'until'];

// The address's filters as the API's query: dates as the start of the day (until: the start of the next day).
function apiQuery(query) {
  const out = new URLSearchParams();
  for (const name of FILTERS) {
    const value = query.get(name);
    if (!value) continue;
    if (name === 'since') out.set(name, new Date(value + 'T00:00:00').toISOString());
    else if (name === 'until') out.set(name, new Date(new Date(value + 'T00:00:00').getTime() + 86400000).toISOString());
    else out.set(name, value);
  }
  out.set('limit', '500');
  return out.toString();
}

export function Trail({ query }) {
  const search = apiQuery(query);
  const trail = useApi(`/audit/trail?${search}`);
  const session = useSession();
  const me = session.me.user;
  const manager = me.role === 'owner' || me.role === 'admin'; // they see everyone's entries, a technician their own
  const users = useApi(manager ? `/operators/${session.me.operator.id}/users` : null);
  const people = (users.data && users.data.users) || [me];
  const nameOf = (id) => (people.find((u) => u.id === id) || { name: id }).name;
  const filter = (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const next = new URLSearchParams();
    for (const name of FILTERS) if (form.get(name)) next.set(name, String(form.get(name)).trim());
    location.hash = `#/trail?${next}`;
  };
  const exportCsv = async () => {
    const res = await api('GET', `/audit/trail?${search}`, { headers: { Accept: 'text/csv' }, raw: true });
    download('aos-audit-trail.csv', await res.blob());
  };
  return html`<${Page} title=${t('Audit trail')} wide>
    <p>${t('Everything done in your workshop with AOS, in a chain no one can change unnoticed: who read which car, bought what, flashed which ECU.')}</p>
    <form class="inline-form" onSubmit=${filter} aria-label=${t('Filter the trail')}>
      <${Field} label=${t('VIN')} name="vin" value=${query.get('vin') || ''} maxlength="17" autocomplete="off" />
      <${Field} label=${t('User')} name="user_id" as="select" value=${query.get('user_id') || ''}>
        ${manager && html`<option value="">${t('everyone')}</option>`}
        ${people.map((u) => html`<option value=${u.id}>${u.name}</option>`)}
      </${Field}>
      <${Field} label=${t('Kind')} name="kind" as="select" value=${query.get('kind') || ''}>
        <option value="">${t('every kind')}</option>
        ${Object.entries(KINDS).map(([value, label]) => html`<option value=${value}>${t(label)}</option>`)}
      </${Field}>
      <${Field} label=${t('From')} name="since" type="date" value=${query.get('since') || ''} />
      <${Field} label=${t('To')} name="until" type="date" value=${query.get('until') || ''} />
      <button type="submit">${t('Filter')}</button>
      <button type="button" onClick=${exportCsv}>${t('Export as CSV')}</button>
    </form>
    <${ErrorBanner} error=${trail.error} />
    ${trail.loading && html`<${Loading} />`}
    ${trail.data && (trail.data.entries.length === 0 ? html`<p>${t('Nothing recorded for this filter.')}</p>` : html`
      <div class="table-wrap" tabindex="0" role="region" aria-label=${t('Audit trail')}><table data-testid="trail">
        <thead><tr><th scope="col">${t('When')}</th><th scope="col">${t('What')}</th><th scope="col">${t('VIN')}</th>
          <th scope="col">${t('User')}</th><th scope="col">${t('Entry')}</th></tr></thead>
        <tbody>${trail.data.entries.map((e) => html`<tr data-kind=${e.kind}>
          <td>${new Date(e.occurred_at).toLocaleString()}</td>
          <th scope="row">${KINDS[e.kind] ? t(KINDS[e.kind]) : e.kind}<br /><small>${e.summary}</small></th>
          <td>${e.vin || ''}</td><td>${e.user_id ? nameOf(e.user_id) : ''}</td>
          <td><span title=${e.hash}>#${e.seq}</span></td>
        </tr>`)}</tbody></table></div>`)}
  </${Page}>`;
}
