// The start page: what the portal offers, the use cases it covers, the public prices, sign in or register.
import { html } from 'htm/preact';
import { useApi } from '../api.js';
import { N_, t } from '../i18n.js';
import { ErrorBanner, Loading, Page } from '../ui.js';
import { TariffTable } from './billing.js';

const USE_CASES = [
  [N_('Technical information'), N_('Repair instructions, wiring diagrams, service bulletins and fault codes, filtered to the car on the lift.')],
  [N_('Vehicle data'), N_('Build data, installed control units, service history, maintenance due and open campaigns by VIN.')],
  [N_('Programming'), N_('Update control units through your pass-through device; the clock runs only while the car is being programmed.')],
  [N_('Shop'), N_('Service tools and diagnostic cables, delivered to your workshop.')],
];

export function Start() {
  const tariffs = useApi('/tariffs?country=DE');
  return html`<${Page} title=${t('Repair information and programming for independent workshops')}>
    <p class="lead">${t('Pay only for the time you use: an hour of technical information, a pass for one vehicle, or programming time that stops when the car does.')}</p>
    <p class="actions"><a class="button primary" href="#/register">${t('Register a workshop')}</a>
      <a class="button" href="#/login">${t('Sign in')}</a></p>
    <section aria-labelledby="use-cases"><h2 id="use-cases">${t('What you can do')}</h2>
      <ul class="cards">${USE_CASES.map(([title, text]) => html`<li class="card"><h3>${t(title)}</h3><p>${t(text)}</p></li>`)}</ul>
    </section>
    <section aria-labelledby="prices"><h2 id="prices">${t('Prices')}</h2>
      <p>${t('Prices for workshops in Germany; other countries see theirs after registering. Paid from your credit account.')}</p>
      <${ErrorBanner} error=${tariffs.error} />
      ${tariffs.loading ? html`<${Loading} />` : tariffs.data && html`<${TariffTable} tariffs=${tariffs.data.tariffs} />`}
    </section>
  </${Page}>`;
}
