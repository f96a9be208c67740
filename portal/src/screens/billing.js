// Subscriptions: tariffs with their VAT, buying with a confirmation step, topping up credit, purchase history,
// invoices as PDF, and the credit statement (with credits received and why).
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { api, newIdempotencyKey, useApi, useSession } from '../api.js';
import { N_, dateTime, duration, money, t } from '../i18n.js';
import { Dialog, download, ErrorBanner, Field, formValues, Loading, Notice, Page, useAction } from '../ui.js';

const PERIODS = { hour: N_('1 hour'), day: N_('1 day'), week: N_('1 week'), month: N_('1 month'), year: N_('1 year') };

function length(tariff) {
  if (tariff.seconds) return tariff.seconds % 3600 ? t('{m} min', { m: tariff.seconds / 60 }) : t('{h} h', { h: tariff.seconds / 3600 });
  return tariff.period ? t(PERIODS[tariff.period] || tariff.period) : '';
}

export function TariffTable({ tariffs, onBuy }) {
  return html`<div class="table-wrap" tabindex="0" role="region" aria-label=${t('Tariffs')}><table class="tariffs">
    <thead><tr><th scope="col">${t('Tariff')}</th><th scope="col">${t('Length')}</th><th scope="col" class="num">${t('Net')}</th>
      <th scope="col" class="num">${t('VAT')}</th><th scope="col" class="num">${t('Total')}</th>${onBuy && html`<th scope="col"><span class="sr-only">${t('Buy')}</span></th>`}</tr></thead>
    <tbody>${tariffs.map((tariff) => html`<tr data-tariff=${tariff.code}>
      <th scope="row">${tariff.name}</th><td>${length(tariff)}</td>
      <td class="num">${money(tariff.net_cents, tariff.currency)}</td>
      <td class="num">${money(tariff.vat_cents, tariff.currency)} <small>(${tariff.vat_rate} %)</small></td>
      <td class="num"><strong>${money(tariff.gross_cents, tariff.currency)}</strong></td>
      ${onBuy && html`<td><button type="button" onClick=${() => onBuy(tariff)} aria-label=${t('Buy {name}', { name: tariff.name })}>${t('Buy')}</button></td>`}
    </tr>`)}</tbody>
  </table></div>`;
}

// Buying one tariff: what it costs, a VIN for a vehicle pass, then the purchase. Each opening of the dialog has
// its own idempotency key: a double click or a retry after a lost answer buys once, the next purchase is new.
export function BuyDialog({ tariff, vin, onClose, onBought }) {
  const { busy, error, run, reset } = useAction();
  const [key, setKey] = useState(null);
  useEffect(() => { setKey(newIdempotencyKey()); reset(); }, [tariff]);
  if (!tariff) return html`<${Dialog} open=${false} />`;
  const buy = async (event) => {
    event.preventDefault();
    const body = { tariff_code: tariff.code, ...formValues(event.target) };
    if (body.vin) body.vin = body.vin.trim().toUpperCase();
    const purchase = await run(() => api('POST', '/purchases', { body, headers: { 'Idempotency-Key': key } }));
    if (purchase) onBought(purchase);
  };
  return html`<${Dialog} open=${true} title=${t('Confirm your purchase')} onClose=${onClose}>
    <form onSubmit=${buy} novalidate>
      <dl class="summary">
        <div><dt>${t('Tariff')}</dt><dd>${tariff.name}</dd></div>
        <div><dt>${t('Net')}</dt><dd>${money(tariff.net_cents, tariff.currency)}</dd></div>
        <div><dt>${t('VAT')} ${tariff.vat_rate} %</dt><dd>${money(tariff.vat_cents, tariff.currency)}</dd></div>
        <div><dt>${t('Total')}</dt><dd><strong>${money(tariff.gross_cents, tariff.currency)}</strong></dd></div>
      </dl>
      ${tariff.kind === 'vin_pass' && html`<${Field} label=${t('VIN of the vehicle')} name="vin" error=${error} required
        defaultValue=${vin || ''} maxlength="17" autocomplete="off" hint=${t('17 characters, as on the registration document')} />`}
      <p>${t('Paid from your credit account.')}</p>
      <${ErrorBanner} error=${error} />
      ${error && error.code === 'INSUFFICIENT_CREDIT' && html`<p><a href="#/billing?section=top-up" onClick=${onClose}>${t('Top up credit')}</a></p>`}
      <div class="actions">
        <button class="primary" type="submit" disabled=${busy}>${t('Buy now')}</button>
        <button type="button" onClick=${onClose}>${t('Cancel')}</button>
      </div>
    </form>
  </${Dialog}>`;
}

const CARDS = [['tok_visa', N_('Visa test card ending 4242')], ['tok_declined', N_('Test card that is declined')]];

// A top-up keeps its idempotency key until it succeeds or the form changes: sending it again after a lost
// answer charges the card once.
export function TopUp({ onDone }) {
  const { busy, error, run } = useAction();
  const [done, setDone] = useState(null);
  const [key, setKey] = useState(newIdempotencyKey());
  const submit = async (event) => {
    event.preventDefault();
    const values = formValues(event.target);
    const body = { amount_cents: values.amount > 0 ? Math.round(values.amount * 100) : 0, card_token: values.card_token };
    setDone(null);
    const answer = await run(() => api('POST', '/credit/top-ups', { body, headers: { 'Idempotency-Key': key } }).catch((exc) => {
      if (exc.fields.amount_cents) exc.fields.amount = exc.fields.amount_cents; // the field as the form names it
      throw exc;
    }));
    if (answer) {
      setDone(body.amount_cents);
      setKey(newIdempotencyKey());
      if (onDone) onDone();
    }
  };
  return html`<form onSubmit=${submit} onInput=${() => setKey(newIdempotencyKey())} novalidate class="inline-form">
    <${Field} label=${t('Amount in euros')} name="amount" type="number" min="5" step="1" defaultValue="50" error=${error} required
      hint=${t('At least 5 euros.')} />
    <${Field} label=${t('Card')} name="card_token" as="select" error=${error}>
      ${CARDS.map(([token, label]) => html`<option value=${token}>${t(label)}</option>`)}
    </${Field}>
    <button type="submit" disabled=${busy}>${t('Top up')}</button>
    <${ErrorBanner} error=${error} />
    ${done != null && html`<${Notice} kind="success">${t('{amount} added to your credit.', { amount: money(done) })}</${Notice}>`}
  </form>`;
}

async function invoicePdf(invoice) {
  const res = await api('GET', `/invoices/${invoice.id}`, { headers: { Accept: 'application/pdf' }, raw: true });
  download(`${invoice.number}.pdf`, await res.blob());
}

const STATEMENT = { top_up: N_('Top-up'), purchase: N_('Purchase'), credit: N_('Credit received'), refund: N_('Refund') };

export function Billing({ query }) {
  const session = useSession();
  const country = session && session.me ? session.me.operator.country : 'DE';
  const tariffs = useApi(`/tariffs?country=${country}`);
  const purchases = useApi('/purchases');
  const invoices = useApi('/invoices');
  const credit = useApi('/credit');
  const [buying, setBuying] = useState(null);
  const [bought, setBought] = useState(null);
  const [pdfError, setPdfError] = useState(null);
  useEffect(() => { // #/billing?buy=air-1h&vin=... opens the confirmation for that tariff
    const code = query.get('buy');
    if (code && tariffs.data) setBuying(tariffs.data.tariffs.find((x) => x.code === code) || null);
  }, [tariffs.data, query.get('buy')]);
  useEffect(() => {
    if (query.get('section') && credit.data) {
      const target = document.getElementById(query.get('section'));
      if (target) target.scrollIntoView();
    }
  }, [credit.data]);
  const reload = () => { purchases.reload(); invoices.reload(); credit.reload(); };
  return html`<${Page} title=${t('Subscriptions and credit')} wide>
    ${bought && html`<${Notice} kind="success">${t('Bought: {name} for {price}.', { name: bought.tariff_name, price: money(bought.gross_cents, bought.currency) })}
      ${' '}<a href="#/workshop">${t('See what is active')}</a></${Notice}>`}
    <section aria-labelledby="buy"><h2 id="buy">${t('Tariffs')}</h2>
      <${ErrorBanner} error=${tariffs.error} />
      ${tariffs.data ? html`<${TariffTable} tariffs=${tariffs.data.tariffs} onBuy=${setBuying} />` : html`<${Loading} />`}
    </section>
    <${BuyDialog} tariff=${buying} vin=${query.get('vin')} onClose=${() => setBuying(null)}
      onBought=${(purchase) => { setBuying(null); setBought(purchase); reload(); }} />
    <section aria-labelledby="top-up"><h2 id="top-up" tabindex="-1">${t('Credit')}</h2>
      ${credit.data && html`<p>${t('Balance')}: <strong data-testid="balance">${money(credit.data.balance_cents, credit.data.currency)}</strong></p>`}
      <${TopUp} onDone=${reload} />
    </section>
    <section aria-labelledby="history"><h2 id="history">${t('Purchases')}</h2>
      <${ErrorBanner} error=${purchases.error} />
      ${purchases.data && (purchases.data.purchases.length === 0 ? html`<p>${t('No purchases yet.')}</p>` : html`
        <div class="table-wrap" tabindex="0" role="region" aria-label=${t('Purchases')}><table>
          <thead><tr><th scope="col">${t('Date')}</th><th scope="col">${t('Tariff')}</th><th scope="col">${t('VIN')}</th><th scope="col" class="num">${t('Total')}</th></tr></thead>
          <tbody>${purchases.data.purchases.map((p) => html`<tr><td>${dateTime(p.created_at)}</td><td>${p.tariff_name}</td><td>${p.vin || ''}</td>
            <td class="num">${money(p.gross_cents, p.currency)}</td></tr>`)}</tbody></table></div>`)}
    </section>
    <section aria-labelledby="invoices"><h2 id="invoices">${t('Invoices')}</h2>
      <${ErrorBanner} error=${invoices.error || pdfError} />
      ${invoices.data && (invoices.data.invoices.length === 0 ? html`<p>${t('No invoices yet.')}</p>` : html`
        <div class="table-wrap" tabindex="0" role="region" aria-label=${t('Invoices')}><table>
          <thead><tr><th scope="col">${t('Number')}</th><th scope="col">${t('Date')}</th><th scope="col">${t('Item')}</th><th scope="col" class="num">${t('Net')}</th>
            <th scope="col" class="num">${t('VAT')}</th><th scope="col" class="num">${t('Total')}</th><th scope="col">PDF</th></tr></thead>
          <tbody>${invoices.data.invoices.map((inv) => html`<tr><td>${inv.number}</td><td>${dateTime(inv.issued_at)}</td>
            <td>${inv.lines.map((line) => line.description).join(', ')}${inv.note ? html`<br /><small>${inv.note}</small>` : ''}</td>
            <td class="num">${money(inv.net_cents, inv.currency)}</td><td class="num">${money(inv.vat_cents, inv.currency)}</td>
            <td class="num">${money(inv.gross_cents, inv.currency)}</td>
            <td><button type="button" class="link" onClick=${() => invoicePdf(inv).catch(setPdfError)}
              aria-label=${t('Download invoice {number} as PDF', { number: inv.number })}>${t('Download')}</button></td></tr>`)}</tbody></table></div>`)}
    </section>
    <section aria-labelledby="statement"><h2 id="statement">${t('Credit statement')}</h2>
      <${ErrorBanner} error=${credit.error} />
      ${credit.data && html`<div class="table-wrap" tabindex="0" role="region" aria-label=${t('Credit statement')}><table>
        <thead><tr><th scope="col">${t('Date')}</th><th scope="col">${t('What')}</th><th scope="col">${t('Why')}</th><th scope="col" class="num">${t('Amount')}</th></tr></thead>
        <tbody>${credit.data.statement.map((line) => html`<tr class=${'kind-' + line.kind}><td>${dateTime(line.at)}</td>
          <td>${t(STATEMENT[line.kind] || line.kind)}</td><td>${line.description}</td>
          <td class="num">${money(line.amount, credit.data.currency)}</td></tr>`)}</tbody></table></div>`}
    </section>
    <section aria-labelledby="credits"><h2 id="credits">${t('Credits received')}</h2>
      ${credit.data && (credit.data.credits.length === 0 ? html`<p>${t('No credits so far: time and money are given back here when a failure was ours.')}</p>`
        : html`<ul class="credits">${credit.data.credits.map((c) => html`<li><strong>${c.seconds ? duration(c.seconds) : money(c.amount_cents)}</strong>
          ${' '}${t('given back on {when}', { when: dateTime(c.issued_at) })}: ${c.reason}</li>`)}</ul>`)}
    </section>
  </${Page}>`;
}
