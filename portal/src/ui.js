// The pieces every screen uses: labelled fields that show the API's complaint about them, the error banner,
// the "what to buy" offer, the confirmation dialog.
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { money, N_, t } from './i18n.js';

// Something the user asked for: `busy` while it runs, and its error kept to show beside what caused it.
// run(work) answers what work answered, or undefined when it failed.
export function useAction() {
  const [state, setState] = useState({ busy: false, error: null });
  const run = async (work) => {
    setState({ busy: true, error: null });
    try {
      const result = await work();
      setState({ busy: false, error: null });
      return result;
    } catch (exc) {
      setState({ busy: false, error: exc });
      return undefined;
    }
  };
  return { ...state, run, reset: () => setState({ busy: false, error: null }) };
}

// State that starts as `value` and follows it when it changes later; not right after the first render, which
// would wipe what was typed in between.
export function useFollowing(value) {
  const [state, setState] = useState(value);
  const first = useRef(true);
  useEffect(() => {
    if (first.current) first.current = false;
    else setState(value);
  }, [value]);
  return [state, setState];
}

// What the API's error codes mean at the workbench; anything else shows the API's own message.
const WORDS = {
  NETWORK: N_('AOS cannot be reached. Check the connection and try again.'),
  LOGIN_FAILED: N_('Login failed'),
  LOGIN_THROTTLED: N_('Too many failed attempts. Try again in {retry_after_seconds} seconds.'),
  TOTP_CODE_WRONG: N_('The code is not right; check the time on your phone.'),
  TOTP_CODE_REUSED: N_('This code has been used already; wait for the next one.'),
  RECOVERY_CODE_WRONG: N_('This recovery code is not valid or has been used.'),
  TOTP_NOT_STARTED: N_('Start the set-up of the second factor again.'),
  EMAIL_TAKEN: N_('An account with this email address exists already.'),
  VAT_ID_TAKEN: N_('A workshop with this VAT id is registered already.'),
  INSUFFICIENT_CREDIT: N_('Not enough credit: top up your credit account first.'),
  CARD_DECLINED: N_('The card was declined; nothing was charged.'),
  PROGRAMMING_TIME_REQUIRED: N_('Your workshop has no programming time left: buy a programming pack first.'),
  STEP_UP_REQUIRED: N_('Programming needs a fresh login with your second factor. Sign out and in again.'),
  ROLE_NOT_ALLOWED: N_('Your role does not allow this; ask your workshop\'s owner.'),
  OWNER_ONLY: N_('Only the workshop\'s owner may do this.'),
  AGENT_BUSY: N_('This agent has a session open already: end it first.'),
  ACCESS_REQUIRED: N_('This needs access to technical information.'),
  VEHICLE_DATA_ACCESS_REQUIRED: N_('This vehicle\'s data needs access to vehicle data.'),
  VEHICLE_NOT_FOUND: N_('The manufacturer\'s registry has no vehicle with this VIN.'),
  SERVICE_UNAVAILABLE: N_('A service is not answering; please try again shortly.'),
  REFRESH_TOKEN_EXPIRED: N_('Your session has expired; please sign in again.'),
  REFRESH_TOKEN_INVALID: N_('Your session has ended; please sign in again.'),
  TOKEN_MISSING: N_('Please sign in.'),
  INTERNAL_ERROR: N_('Something went wrong on our side; it has been logged.'),
  OUT_OF_STOCK: N_('Not enough in stock for this order.'),
  LAST_OWNER: N_('A workshop needs an active owner; make someone else owner first.'),
  INVITATION_INVALID: N_('This invitation is not valid or has expired; ask your workshop\'s owner for a new one.'),
  EMAIL_NOT_VERIFIED: N_('Confirm your email address first: we sent you a link.'),
  NOT_ALLOWED_TO_BUY: N_('Your workshop\'s owner has not given you the right to buy; ask them.'),
  NOT_ALLOWED_ON_INVOICE: N_('Your workshop\'s owner has not given you the right to order on invoice.'),
  MONTHLY_BUDGET_EXCEEDED: N_('This would go over your monthly budget; nothing was charged.'),
  TOKEN_REVOKED: N_('Your sign-in has ended; please sign in again.'),
  VERIFICATION_INVALID: N_('This link is not valid or has expired; ask for a new one.'),
  RESET_LINK_INVALID: N_('This link is not valid, was used, or has expired: ask for a new one.'),
  PASSWORD_WRONG: N_('The current password is not right.'),
  CHALLENGE_USED: N_('This sign-in step was completed already; sign in again.'),
  VALIDATION_FAILED: N_('Some fields are missing or invalid; see the marked fields.'),
};

// marshmallow's messages, in words of the form
const FIELD_WORDS = {
  'Missing data for required field.': N_('Required.'),
  'Not a valid email address.': N_('Not a valid email address.'),
  'Not a supported country code.': N_('Choose a country from the list.'),
  'Shorter than minimum length 1.': N_('Required.'),
};

export function errorText(error) {
  if (!error) return '';
  const words = WORDS[error.code];
  if (words) return t(words, error.details || {});
  return error.message;
}

export function fieldText(message) { return t(FIELD_WORDS[message] || message); }

export function ErrorBanner({ error }) {
  if (!error) return null;
  return html`<div class="alert error" role="alert" data-code=${error.code}>${errorText(error)}</div>`;
}

export function Notice({ children, kind = 'info' }) {
  return html`<div class=${'alert ' + kind} role="status">${children}</div>`;
}

// A labelled input; `name` is the API's field path, so the API's complaint about it shows beneath it.
// `scope` keeps ids apart where one form shows several times on a screen (a form per security job, say).
export function Field({ label, name, error, hint, type = 'text', as = 'input', scope = '', children, ...props }) {
  const id = 'f-' + (scope ? scope + '-' : '') + name.replace(/\W/g, '-');
  const problems = (error && error.fields && error.fields[name]) || [];
  const described = [hint ? id + '-hint' : null, problems.length ? id + '-error' : null].filter(Boolean).join(' ');
  const common = { id, name, 'aria-invalid': problems.length ? 'true' : undefined,
    'aria-describedby': described || undefined, ...props };
  let control;
  if (as === 'select') control = html`<select ...${common}>${children}</select>`;
  else if (as === 'textarea') control = html`<textarea ...${common}></textarea>`;
  else control = html`<input type=${type} ...${common} />`;
  return html`<div class=${'field' + (problems.length ? ' invalid' : '')}>
    <label for=${id}>${label}</label>
    ${control}
    ${hint && html`<small id=${id + '-hint'} class="hint">${hint}</small>`}
    ${problems.length ? html`<small id=${id + '-error'} class="field-error">${problems.map(fieldText).join(' ')}</small>` : null}
  </div>`;
}

// What to buy to see this: the tariffs the API offers, each a link to buying it.
export function Offer({ tariffs, message, vin }) {
  const list = (tariffs || []).map((x) => (typeof x === 'string' ? { code: x } : x));
  return html`<section class="offer" aria-label=${t('What to buy')}>
    <p><strong>${message || t('This needs access.')}</strong></p>
    <ul class="actions">
      ${list.map((tariff) => html`<li><a class="button" href=${`#/billing?buy=${tariff.code}${vin ? '&vin=' + vin : ''}`}>
        ${t('Buy')} ${tariff.name || tariff.code}${tariff.gross_cents != null ? ' – ' + money(tariff.gross_cents, tariff.currency) : ''}</a></li>`)}
    </ul>
  </section>`;
}

export function Loading() {
  return html`<p class="loading" role="status">${t('Loading…')}</p>`;
}

// A modal dialog (the browser's own <dialog>): focus stays inside, Escape closes it.
export function Dialog({ open, title, onClose, children }) {
  const ref = useRef(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  // Escape asks the owner to close it; closing from the code (another dialog opening) is not the user's "close"
  const cancel = (event) => { event.preventDefault(); if (onClose) onClose(); };
  return html`<dialog ref=${ref} aria-labelledby="dialog-title" onCancel=${cancel}>
    ${open && html`<h2 id="dialog-title">${title}</h2>${children}`}
  </dialog>`;
}

// The page's heading takes the focus when the screen changes, so a screen reader hears where it is.
let firstScreen = true; // on the first page load the browser's own focus order stands (the skip link first)

export function Page({ title, children, wide = false }) {
  const ref = useRef(null);
  useEffect(() => {
    const heading = ref.current;
    if (firstScreen) firstScreen = false;
    else if (heading && !heading.closest('main').contains(document.activeElement)) heading.focus(); // not if typing started
  }, [title]);
  useEffect(() => { document.title = `${title} – AOS`; }, [title]);
  return html`<div class=${'page' + (wide ? ' wide' : '')}>
    <h1 tabindex="-1" ref=${ref}>${title}</h1>
    ${children}
  </div>`;
}

// form values by name, with nested names ("operator.address.city") made into objects
export function formValues(form) {
  const out = {};
  for (const element of form.elements) {
    if (!element.name || element.disabled || element.type === 'submit') continue;
    let value = element.value;
    if (element.type === 'checkbox') value = element.checked;
    else if (element.type === 'number') value = value === '' ? null : Number(value);
    else if (value === '') continue; // left empty: the API says whether it was needed
    const path = element.name.split('.');
    let node = out;
    path.slice(0, -1).forEach((key) => { node = node[key] = node[key] || {}; });
    node[path[path.length - 1]] = value;
  }
  return out;
}

export function download(filename, blob) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
