// The shop: catalogue, product page, cart (kept in this browser), checkout with a confirmation step, orders.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { api, newIdempotencyKey, useApi, useSession } from '../api.js';
import { N_, dateTime, money, number, t } from '../i18n.js';
import { Dialog, ErrorBanner, Field, Loading, Notice, Page, useAction } from '../ui.js';

const CART = 'aos.cart';
const PAYMENT = [['credit', N_('From the credit account')], ['invoice', N_('On invoice')]];
const PAYMENT_NAMES = Object.fromEntries(PAYMENT);
const listeners = new Set();

function readCart() { return JSON.parse(localStorage.getItem(CART) || '{}'); }

function writeCart(cart) {
  localStorage.setItem(CART, JSON.stringify(cart));
  listeners.forEach((listener) => listener(cart));
}

function useCart() {
  const [cart, setCart] = useState(readCart());
  useEffect(() => { listeners.add(setCart); return () => listeners.delete(setCart); }, []);
  return cart;
}

function addToCart(sku, quantity) {
  const cart = readCart();
  writeCart({ ...cart, [sku]: Math.min(99, (cart[sku] || 0) + quantity) });
}

function useCatalogue() {
  const session = useSession();
  return useApi(`/shop/products?country=${session && session.me ? session.me.operator.country : 'DE'}`);
}

function CartLink() {
  const cart = useCart();
  const count = Object.values(cart).reduce((a, b) => a + b, 0);
  return html`<p class="cart-link"><a class="button" href="#/cart">${t('Cart')} (${count})</a> <a href="#/orders">${t('My orders')}</a></p>`;
}

function Price({ product }) {
  return html`<p class="price"><strong>${money(product.gross_cents, product.currency)}</strong>
    <small> ${t('incl. {rate} % VAT; {net} net', { rate: product.vat_rate, net: money(product.net_cents, product.currency) })}</small></p>`;
}

export function Shop() {
  const catalogue = useCatalogue();
  return html`<${Page} title=${t('Shop')} wide>
    <${CartLink} />
    <${ErrorBanner} error=${catalogue.error} />
    ${!catalogue.data ? html`<${Loading} />` : html`<ul class="cards products">
      ${catalogue.data.products.map((p) => html`<li class="card product">
        ${p.image_url && html`<img src=${p.image_url} alt="" width="160" height="120" />`}
        <h2><a href=${'#/shop/' + encodeURIComponent(p.sku)}>${p.name}</a></h2>
        <p>${p.description}</p>
        <${Price} product=${p} />
        <p class="hint">${p.stock > 0 ? t('{n} in stock', { n: number(p.stock) }) : t('out of stock')}</p>
      </li>`)}</ul>`}
  </${Page}>`;
}

export function Product({ sku }) {
  const product = useApi(`/shop/products/${encodeURIComponent(sku)}`);
  const [quantity, setQuantity] = useState(1);
  const [added, setAdded] = useState(false);
  const p = product.data;
  if (!p) return html`<${Page} title=${t('Shop')}><${ErrorBanner} error=${product.error} />${product.loading && html`<${Loading} />`}</${Page}>`;
  return html`<${Page} title=${p.name}>
    <${CartLink} />
    <div class="product-page">
      ${p.image_url && html`<img src=${p.image_url} alt=${p.name} width="320" height="240" />`}
      <div>
        <p>${p.description}</p>
        <${Price} product=${p} />
        <dl class="facts">${Object.entries(p.technical_data || {}).map(([key, value]) => html`<div><dt>${key}</dt><dd>${value}</dd></div>`)}</dl>
        ${p.needed_for && p.needed_for.length > 0 && html`<p>${t('Needed for')}: ${p.needed_for.join(', ')}</p>`}
        ${p.theft_relevant && html`<p class="note" data-testid="theft-relevant">${t('Theft-relevant: ordered only by a technician with a SERMI authorisation confirmed at the trust centre within the last 15 minutes.')} <a href="#/sermi">${t('SERMI authorisation')}</a></p>`}
        <p class="hint">${p.stock > 0 ? t('{n} in stock', { n: number(p.stock) }) : t('out of stock')}</p>
        <form class="inline-form" onSubmit=${(e) => { e.preventDefault(); addToCart(p.sku, quantity); setAdded(true); }}>
          <${Field} label=${t('Quantity')} name="quantity" type="number" min="1" max="99" value=${quantity}
            onInput=${(e) => setQuantity(Math.max(1, Number(e.target.value) || 1))} />
          <button class="primary" type="submit" disabled=${p.stock <= 0}>${t('Add to cart')}</button>
        </form>
        ${added && html`<${Notice} kind="success">${t('In the cart.')} <a href="#/cart">${t('Go to the cart')}</a></${Notice}>`}
      </div>
    </div>
  </${Page}>`;
}

export function Cart() {
  const cart = useCart();
  const catalogue = useCatalogue();
  const [confirming, setConfirming] = useState(false);
  const [payment, setPayment] = useState('credit');
  const { error, run } = useAction();
  const [key, setKey] = useState(newIdempotencyKey());
  useEffect(() => setKey(newIdempotencyKey()), [JSON.stringify(cart), payment]); // another order, another key
  const products = catalogue.data ? Object.fromEntries(catalogue.data.products.map((p) => [p.sku, p])) : {};
  const lines = Object.entries(cart).filter(([sku, quantity]) => quantity > 0 && products[sku]).map(([sku, quantity]) => ({ sku, quantity, product: products[sku] }));
  const net = lines.reduce((sum, l) => sum + l.product.net_cents * l.quantity, 0);
  const gross = lines.reduce((sum, l) => sum + l.product.gross_cents * l.quantity, 0);
  const order = async () => {
    const body = { lines: lines.map(({ sku, quantity }) => ({ sku, quantity })), payment_method: payment };
    const placed = await run(() => api('POST', '/shop/orders', { body, headers: { 'Idempotency-Key': key } }));
    if (placed) {
      writeCart({});
      location.hash = '#/orders/' + placed.id;
    }
  };
  const setQuantity = (sku, quantity) => writeCart({ ...cart, [sku]: Math.max(0, Math.min(99, quantity)) });
  return html`<${Page} title=${t('Cart')}>
    <${ErrorBanner} error=${catalogue.error} />
    ${lines.length === 0 ? html`<p>${t('The cart is empty.')} <a href="#/shop">${t('To the shop')}</a></p>` : html`
      <div class="table-wrap" tabindex="0" role="region" aria-label=${t('Cart')}><table>
        <thead><tr><th scope="col">${t('Product')}</th><th scope="col">${t('Quantity')}</th><th scope="col" class="num">${t('Total')}</th><th scope="col"><span class="sr-only">${t('Remove')}</span></th></tr></thead>
        <tbody>${lines.map((l) => html`<tr><th scope="row">${l.product.name}</th>
          <td><label class="sr-only" for=${'qty-' + l.sku}>${t('Quantity of {name}', { name: l.product.name })}</label>
            <input id=${'qty-' + l.sku} type="number" min="0" max="99" value=${l.quantity} class="qty"
              onChange=${(e) => setQuantity(l.sku, Number(e.target.value) || 0)} /></td>
          <td class="num">${money(l.product.gross_cents * l.quantity, l.product.currency)}</td>
          <td><button type="button" class="link" onClick=${() => setQuantity(l.sku, 0)}>${t('Remove')}</button></td></tr>`)}</tbody>
      </table></div>
      <p>${t('Net')} ${money(net)} · ${t('VAT')} ${money(gross - net)} · <strong>${t('Total')} ${money(gross)}</strong></p>
      <fieldset><legend>${t('Payment')}</legend>
        ${PAYMENT.map(([value, label]) => html`<div class="check">
          <input type="radio" name="payment_method" id=${'pay-' + value} value=${value} checked=${payment === value} onChange=${() => setPayment(value)} />
          <label for=${'pay-' + value}>${t(label)}</label></div>`)}
      </fieldset>
      <p><button class="primary" type="button" onClick=${() => setConfirming(true)}>${t('Check out')}</button></p>`}
    <${Dialog} open=${confirming} title=${t('Confirm your order')} onClose=${() => setConfirming(false)}>
      <ul>${lines.map((l) => html`<li>${l.quantity} × ${l.product.name}</li>`)}</ul>
      <p><strong>${t('Total')} ${money(gross)}</strong> · ${t(PAYMENT_NAMES[payment])}</p>
      <${ErrorBanner} error=${error} />
      <div class="actions"><button class="primary" type="button" onClick=${order}>${t('Place the order')}</button>
        <button type="button" onClick=${() => setConfirming(false)}>${t('Cancel')}</button></div>
    </${Dialog}>
  </${Page}>`;
}

const CANCEL_REASONS = { by_customer: N_('cancelled by you'), payment_refused: N_('the payment was refused: not enough credit, or over the limit for invoices. Top up and order again.'),
  payment_timeout: N_('the payment did not arrive in time') };
const ORDER_STATUS = { placed: N_('Placed: awaiting payment'), paid: N_('Paid'), shipped: N_('Shipped'),
  cancelled: N_('Cancelled'), delivered: N_('Delivered') };

export function Orders() {
  const orders = useApi('/shop/orders');
  return html`<${Page} title=${t('Orders')}>
    <${ErrorBanner} error=${orders.error} />
    ${orders.data && (orders.data.orders.length === 0 ? html`<p>${t('No orders yet.')} <a href="#/shop">${t('To the shop')}</a></p>` : html`
      <div class="table-wrap" tabindex="0" role="region" aria-label=${t('Orders')}><table>
        <thead><tr><th scope="col">${t('Date')}</th><th scope="col">${t('Order')}</th><th scope="col">${t('Status')}</th><th scope="col" class="num">${t('Net')}</th></tr></thead>
        <tbody>${orders.data.orders.map((o) => html`<tr><td>${dateTime(o.placed_at)}</td>
          <td><a href=${'#/orders/' + o.id}>${o.lines.map((l) => `${l.quantity} × ${l.name || l.sku}`).join(', ')}</a></td>
          <td>${t(ORDER_STATUS[o.status] || o.status)}</td><td class="num">${money(o.net_cents, o.currency)}</td></tr>`)}</tbody>
      </table></div>`)}
  </${Page}>`;
}

export function Order({ id }) {
  const order = useApi(`/shop/orders/${encodeURIComponent(id)}`);
  const { error, run } = useAction();
  const o = order.data;
  useEffect(() => { // payment and shipping move on by themselves
    if (!o || !['placed', 'paid'].includes(o.status)) return undefined;
    const timer = setTimeout(order.reload, 2000);
    return () => clearTimeout(timer);
  }, [o]);
  const cancel = () => run(() => api('POST', `/shop/orders/${id}/cancel`, { body: {} })).then(order.reload);
  if (!o) return html`<${Page} title=${t('Order')}><${ErrorBanner} error=${order.error} />${order.loading && html`<${Loading} />`}</${Page}>`;
  return html`<${Page} title=${t('Order of {when}', { when: dateTime(o.placed_at) })}>
    <p class="state" data-status=${o.status} role="status">${t('Status')}: <strong>${t(ORDER_STATUS[o.status] || o.status)}</strong>
      ${o.cancel_reason ? ` – ${t(CANCEL_REASONS[o.cancel_reason] || o.cancel_reason)}` : ''}</p>
    <ul>${o.lines.map((l) => html`<li>${l.quantity} × ${l.name || l.sku}</li>`)}</ul>
    <dl class="facts">
      <div><dt>${t('Net')}</dt><dd>${money(o.net_cents, o.currency)}</dd></div>
      <div><dt>${t('Paid')}</dt><dd>${money(o.paid_cents || 0, o.currency)}</dd></div>
      <div><dt>${t('Payment')}</dt><dd>${t(PAYMENT_NAMES[o.payment_method] || o.payment_method)}</dd></div>
      ${o.tracking_reference && html`<div><dt>${t('Tracking')}</dt><dd>${o.tracking_reference}</dd></div>`}
    </dl>
    <${ErrorBanner} error=${error} />
    ${['placed', 'paid'].includes(o.status) && html`<p><button type="button" onClick=${cancel}>${t('Cancel the order')}</button></p>`}
    <p><a href="#/orders">${t('All orders')}</a></p>
  </${Page}>`;
}
