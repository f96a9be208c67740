// The portal's shell: header with the workshop's navigation and the language, and the screen for the address.
// Addresses are hash routes (#/air?q=...), so the gateway serves one index.html and every link can be bookmarked.
import { html } from 'htm/preact';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import './style.css';
import { signOut, useSession } from './api.js';
import { LANGUAGES, setLanguage, t, useLanguage } from './i18n.js';
import { Page } from './ui.js';
import { Start } from './screens/start.js';
import { AcceptInvitation, Enrol, Login, Register } from './screens/auth.js';
import { ChangePassword, ForgotPassword, Passkeys, ResetPassword, VerifyEmail } from './screens/account.js';
import { Workshop } from './screens/workshop.js';
import { Billing } from './screens/billing.js';
import { Air, DocumentView } from './screens/air.js';
import { Vehicle } from './screens/vehicle.js';
import { Programming, ProgrammingSession } from './screens/programming.js';
import { Cart, Order, Orders, Product, Shop } from './screens/shop.js';
import { Users } from './screens/users.js';
import { Trail } from './screens/trail.js';
import { Sermi } from './screens/sermi.js';
import { Security } from './screens/security.js';
import { Job, Jobs } from './screens/jobs.js';
import { PartView, Parts, PartsIllustration } from './screens/parts.js';
import { ApiKeys } from './screens/keys.js';
import { Webhooks } from './screens/webhooks.js';

function parseRoute() {
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path, query = ''] = hash.split('?');
  return { path, parts: path.split('/').filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(query) };
}

export function useRoute() {
  const [route, setRoute] = useState(parseRoute());
  useEffect(() => {
    const update = () => setRoute(parseRoute());
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, []);
  return route;
}

// Screens that need a signed-in user; the rest are public.
const SCREENS = {
  workshop: () => html`<${Workshop} />`,
  billing: (r) => html`<${Billing} query=${r.query} />`,
  air: (r) => html`<${Air} query=${r.query} />`,
  document: (r) => html`<${DocumentView} id=${r.parts[1]} query=${r.query} />`,
  vehicle: (r) => html`<${Vehicle} vin=${r.parts[1]} />`,
  programming: (r) => (r.parts[1] ? html`<${ProgrammingSession} id=${r.parts[1]} />` : html`<${Programming} query=${r.query} />`),
  shop: (r) => (r.parts[1] ? html`<${Product} sku=${r.parts[1]} />` : html`<${Shop} />`),
  cart: () => html`<${Cart} />`,
  orders: (r) => (r.parts[1] ? html`<${Order} id=${r.parts[1]} />` : html`<${Orders} />`),
  users: () => html`<${Users} />`,
  keys: () => html`<${ApiKeys} />`,
  webhooks: () => html`<${Webhooks} />`,
  trail: (r) => html`<${Trail} query=${r.query} />`,
  sermi: (r) => html`<${Sermi} query=${r.query} />`,
  security: () => html`<${Security} />`,
  jobs: (r) => (r.parts[1] ? html`<${Job} id=${r.parts[1]} />` : html`<${Jobs} />`),
  parts: (r) => {
    if (r.parts[1] === 'illustration') return html`<${PartsIllustration} id=${r.parts[2]} query=${r.query} />`;
    if (r.parts[1] === 'part') return html`<${PartView} partNumber=${r.parts[2]} query=${r.query} />`;
    return html`<${Parts} query=${r.query} />`;
  },
  password: () => html`<${ChangePassword} />`,
  passkeys: () => html`<${Passkeys} />`,
};
const PUBLIC = {
  '': () => html`<${Start} />`,
  register: () => html`<${Register} />`,
  login: () => html`<${Login} />`,
  enrol: () => html`<${Enrol} />`,
  invitation: (r) => html`<${AcceptInvitation} query=${r.query} />`,
  'verify-email': (r) => html`<${VerifyEmail} query=${r.query} />`,
  'forgot-password': () => html`<${ForgotPassword} />`,
  'reset-password': (r) => html`<${ResetPassword} query=${r.query} />`,
};

function Navigation({ session }) {
  const owner = session && session.me && session.me.user.role === 'owner';
  const keeper = session && session.me && ['owner', 'admin'].includes(session.me.user.role);
  const items = session && session.me ? [
    ['#/workshop', t('My workshop')],
    ['#/air', t('Technical information')],
    ['#/parts', t('Parts')],
    ['#/jobs', t('Jobs')],
    ['#/programming', t('Programming')],
    ['#/billing', t('Subscriptions')],
    ['#/shop', t('Shop')],
    ['#/orders', t('Orders')],
    ...(owner ? [['#/users', t('Users')]] : []),
    ...(keeper ? [['#/keys', t('API keys')], ['#/webhooks', t('Webhooks')]] : []),
    ['#/trail', t('Audit trail')],
    ['#/sermi', t('SERMI')],
  ] : [['#/', t('Start')], ['#/login', t('Sign in')], ['#/register', t('Register')]];
  const here = '#' + (location.hash.replace(/^#/, '').split('?')[0] || '/');
  return html`<nav aria-label=${t('Main')}>
    <ul>${items.map(([href, label]) => html`<li><a href=${href}
      aria-current=${here === href || (href !== '#/' && here.startsWith(href + '/')) ? 'page' : undefined}>${label}</a></li>`)}</ul>
  </nav>`;
}

function App() {
  const route = useRoute();
  const session = useSession();
  const language = useLanguage();
  const name = route.parts[0] || '';
  let screen;
  if (PUBLIC[name]) screen = PUBLIC[name](route);
  else if (!SCREENS[name]) screen = html`<${Page} title=${t('Not found')}><p>${t('There is no such page.')}</p>
    <p><a href="#/">${t('To the start page')}</a></p></${Page}>`;
  else if (!session || !session.me) {
    screen = html`<${Page} title=${t('Please sign in')}><p>${t('This page is for signed-in workshops.')}</p>
      <p><a class="button" href="#/login">${t('Sign in')}</a> <a href="#/register">${t('Register a workshop')}</a></p></${Page}>`;
  } else screen = SCREENS[name](route);
  return html`<a class="skip" href="#main" onClick=${(e) => { e.preventDefault(); document.getElementById('main').focus(); }}>
      ${t('Skip to content')}</a>
    <header class="top">
      <a class="brand" href=${session && session.me ? '#/workshop' : '#/'}>AOS<span> ${t('Aftersales Online System')}</span></a>
      <${Navigation} session=${session} />
      <div class="tools">
        <label class="sr-only" for="language">${t('Language')}</label>
        <select id="language" value=${language} onChange=${(e) => setLanguage(e.target.value)}>
          ${Object.entries(LANGUAGES).map(([code, label]) => html`<option value=${code}>${label}</option>`)}
        </select>
        ${session && session.me && html`<span class="who">${session.me.user.name} · ${session.me.operator.legal_name}</span>
          <button type="button" class="link" onClick=${() => signOut().then(() => { location.hash = '#/login'; })}>${t('Sign out')}</button>`}
      </div>
    </header>
    <main id="main" tabindex="-1" data-route=${route.parts.join('/')}>${screen}</main>
    <footer><p>${t('AOS gives independent workshops access to repair and maintenance information under EU Regulation 2018/858, Annex X.')}
      ${' '}<a href="/api/v1/openapi.json">${t('HTTP API')}</a></p></footer>`;
}

render(html`<${App} />`, document.getElementById('app'));
