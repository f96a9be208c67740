// My workshop: what is active now, counting down live, the credit balance, programming time left, quick actions.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { useApi, useSession } from '../api.js';
import { ConfirmAddress } from './account.js';
import { N_, dateTime, duration, money, t } from '../i18n.js';
import { ErrorBanner, Loading, Page } from '../ui.js';

// seconds since `since` (ms), ticking every second
export function useSecondsSince(since) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return Math.max(0, (now - since) / 1000);
}

const SCOPES = { air: N_('Technical information'), vehicle_data: N_('Vehicle data'), programming: N_('Programming'), vin: N_('One vehicle') };

function Window({ window, elapsed }) {
  const left = window.remaining_seconds != null ? window.remaining_seconds - elapsed : null;
  return html`<li class="card window">
    <h3>${window.scopes.map((scope) => t(SCOPES[scope] || scope)).join(', ')}${window.vin ? ' · ' + window.vin : ''}</h3>
    ${left != null && html`<p class="countdown" aria-live="off"><span class="big" data-seconds=${Math.floor(left)}>${duration(left)}</span> ${t('left')}</p>`}
    ${window.valid_until && html`<p class="hint">${t('until {when}', { when: dateTime(window.valid_until) })}</p>`}
    ${window.kind === 'vin_pass' && html`<p>${t('{n} programming session(s) left for this vehicle', { n: window.sessions_left })}</p>`}
  </li>`;
}

export function Workshop() {
  const entitlements = useApi('/entitlements');
  const [loadedAt, setLoadedAt] = useState(Date.now());
  useEffect(() => { if (entitlements.data) setLoadedAt(Date.now()); }, [entitlements.data]);
  const elapsed = useSecondsSince(loadedAt);
  useEffect(() => { // a window that has run out disappears: ask again
    const data = entitlements.data;
    if (data && data.windows.some((w) => w.remaining_seconds != null && w.remaining_seconds - elapsed <= 0)) entitlements.reload();
  }, [Math.floor(elapsed)]);
  const data = entitlements.data;
  const session = useSession();
  return html`<${Page} title=${t('My workshop')}>
    <${ConfirmAddress} me=${session && session.me} />
    <${ErrorBanner} error=${entitlements.error} />
    ${!data ? html`<${Loading} />` : html`
      <section aria-labelledby="accounts"><h2 id="accounts" class="sr-only">${t('Accounts')}</h2>
        <dl class="figures">
          <div><dt>${t('Credit balance')}</dt><dd data-testid="credit">${money(data.credit_cents)}</dd></div>
          <div><dt>${t('Programming time left')}</dt><dd data-testid="programming-time">${duration(data.programming_seconds)}</dd></div>
        </dl>
      </section>
      <section aria-labelledby="active"><h2 id="active">${t('Active now')}</h2>
        ${data.windows.length === 0 ? html`<p>${t('Nothing is active. Buy access to technical information or a pass for one vehicle.')}</p>`
          : html`<ul class="cards">${data.windows.map((w) => html`<${Window} window=${w} elapsed=${elapsed} />`)}</ul>`}
      </section>
      <section aria-labelledby="quick"><h2 id="quick">${t('Quick actions')}</h2>
        <ul class="actions">
          <li><a class="button primary" href="#/air">${t('Search technical information')}</a></li>
          <li><a class="button" href="#/billing">${t('Buy access')}</a></li>
          <li><a class="button" href="#/billing?section=top-up">${t('Top up credit')}</a></li>
          <li><a class="button" href="#/programming">${t('Program a vehicle')}</a></li>
          <li><a class="button" href="#/shop">${t('Order tools')}</a></li>
          <li><a class="button" href="#/password">${t('Change password')}</a></li>
          <li><a class="button" href="#/passkeys">${t('Passkeys')}</a></li>
        </ul>
      </section>`}
  </${Page}>`;
}
