// The account around the sign-in: confirming the address from the mail, a forgotten password reset by the mailed
// link, and changing the password with the current one and the second factor.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { api, currentSession, renewSession, signIn, signOut } from '../api.js';
import { t } from '../i18n.js';
import { ErrorBanner, Field, formValues, Loading, Notice, Page, useAction } from '../ui.js';

export function VerifyEmail({ query }) {
  const { error, run } = useAction();
  const [done, setDone] = useState(null);
  useEffect(() => {
    run(async () => {
      const verified = await api('POST', '/auth/email/verify', { body: { token: query.get('token') || '' } });
      await renewSession(); // signed in here: tokens that say the address is confirmed
      setDone(verified);
    });
  }, []);
  return html`<${Page} title=${t('Confirm your email address')}>
    <${ErrorBanner} error=${error} />
    ${done ? html`<${Notice} kind="success">${t('Thank you: {email} is confirmed.', { email: done.email })}</${Notice}>
      <p><a class="button" href=${currentSession() ? '#/workshop' : '#/login'}>${t('Continue')}</a></p>`
      : !error && html`<${Loading} />`}
  </${Page}>`;
}

// On My workshop while the address is not confirmed: purchases wait for it.
export function ConfirmAddress({ me }) {
  const { busy, error, run } = useAction();
  const [sent, setSent] = useState(null);
  if (!me || me.user.email_verified) return null;
  return html`<${Notice} kind="warning">
    <p>${t('Confirm your email address {email}: purchases need it. We sent you a link.', { email: me.user.email })}</p>
    ${sent ? html`<p role="status">${t('A new link is on its way to {email}.', { email: sent.sent_to })}</p>`
      : html`<button type="button" disabled=${busy} onClick=${() => run(async () => setSent(await api('POST', '/auth/email/resend', { body: {} })))}>
          ${t('Send the link again')}</button>`}
    <${ErrorBanner} error=${error} />
  </${Notice}>`;
}

export function ForgotPassword() {
  const { busy, error, run } = useAction();
  const [sent, setSent] = useState(null);
  const submit = (event) => {
    event.preventDefault();
    const body = formValues(event.target);
    run(async () => setSent(await api('POST', '/auth/password/forgot', { body })));
  };
  return html`<${Page} title=${t('Forgot your password?')}>
    ${sent ? html`<${Notice} kind="success">${t('If an account has this address, a link to reset its password is on its way. It works once, for 30 minutes.')}</${Notice}>`
      : html`<form onSubmit=${submit} novalidate>
        <p>${t('We send a link to choose a new password to your address.')}</p>
        <${ErrorBanner} error=${error} />
        <${Field} label=${t('Email')} name="email" type="email" error=${error} required autocomplete="username" />
        <button class="primary" type="submit" disabled=${busy}>${t('Send the link')}</button>
      </form>`}
  </${Page}>`;
}

export function ResetPassword({ query }) {
  const { busy, error, run } = useAction();
  const [done, setDone] = useState(false);
  const submit = (event) => {
    event.preventDefault();
    const body = { token: query.get('token') || '', ...formValues(event.target) };
    run(async () => { await api('POST', '/auth/password/reset', { body }); setDone(true); });
  };
  return html`<${Page} title=${t('Choose a new password')}>
    ${done ? html`<${Notice} kind="success">${t('Your password is changed and you are signed out everywhere. Sign in with the new password and your second factor.')}</${Notice}>
      <p><a class="button" href="#/login">${t('Sign in')}</a></p>`
      : html`<form onSubmit=${submit} novalidate>
        <${ErrorBanner} error=${error} />
        <${Field} label=${t('New password')} name="password" type="password" error=${error} required autocomplete="new-password"
          hint=${t('At least 12 characters; a passphrase is best.')} />
        <button class="primary" type="submit" disabled=${busy}>${t('Change password')}</button>
      </form>`}
  </${Page}>`;
}

export function ChangePassword() {
  const { busy, error, run } = useAction();
  const [done, setDone] = useState(false);
  const submit = (event) => {
    event.preventDefault();
    const body = formValues(event.target);
    run(async () => { await signIn(await api('POST', '/auth/password', { body })); setDone(true); });
  };
  return html`<${Page} title=${t('Change password')}>
    ${done ? html`<${Notice} kind="success">${t('Your password is changed; every other session was signed out.')}</${Notice}>`
      : html`<form onSubmit=${submit} novalidate>
        <${ErrorBanner} error=${error} />
        <${Field} label=${t('Current password')} name="current_password" type="password" error=${error} required autocomplete="current-password" />
        <${Field} label=${t('New password')} name="new_password" type="password" error=${error} required autocomplete="new-password"
          hint=${t('At least 12 characters; a passphrase is best.')} />
        <${Field} label=${t('Code from your authenticator app')} name="code" error=${error} required
          inputmode="numeric" autocomplete="one-time-code" maxlength="6" />
        <button class="primary" type="submit" disabled=${busy}>${t('Change password')}</button>
        ${' '}<button type="button" class="link" onClick=${() => signOut().then(() => { location.hash = '#/forgot-password'; })}>${t('Forgot your password?')}</button>
      </form>`}
  </${Page}>`;
}

// Passkeys: a key on this device (or a security key) as the second factor, instead of typing a code. The browser
// makes and uses it; AOS keeps only its public key. Options and answers travel as the WebAuthn JSON forms.
export function Passkeys() {
  const { busy, error, run } = useAction();
  const [keys, setKeys] = useState(null);
  const load = () => run(async () => setKeys((await api('GET', '/auth/passkeys')).passkeys));
  useEffect(() => { load(); }, []);
  const add = (event) => {
    event.preventDefault();
    const form = event.target;
    const { name } = formValues(form);
    run(async () => {
      const started = await api('POST', '/auth/passkeys/options', { body: {} });
      const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(started.options);
      const credential = await navigator.credentials.create({ publicKey });
      await api('POST', '/auth/passkeys', { body: { ceremony: started.ceremony, credential: credential.toJSON(), name } });
      setKeys((await api('GET', '/auth/passkeys')).passkeys);
      form.reset();
    });
  };
  const remove = (id) => run(async () => { await api('DELETE', `/auth/passkeys/${encodeURIComponent(id)}`); await load(); });
  return html`<${Page} title=${t('Passkeys')}>
    <p>${t('A passkey signs you in with this device\'s screen lock or a security key instead of a code, and it cannot be used on a look-alike site.')}</p>
    <${ErrorBanner} error=${error} />
    ${keys === null ? html`<${Loading} />` : keys.length === 0 ? html`<p>${t('You have no passkey yet.')}</p>`
      : html`<ul class="cards">${keys.map((k) => html`<li class="card"><h3>${k.name}</h3>
          <button type="button" class="link" onClick=${() => remove(k.id)}>${t('Remove {name}', { name: k.name })}</button></li>`)}</ul>`}
    <form onSubmit=${add} novalidate>
      <${Field} label=${t('Name of the passkey')} name="name" error=${error} required maxlength="100" />
      <button class="primary" type="submit" disabled=${busy}>${t('Add a passkey')}</button>
    </form>
  </${Page}>`;
}

// The second step of a sign-in by passkey; `challenge` is the login's. Answers the tokens.
export async function signInWithPasskey(challenge, withDevice) {
  const started = await api('POST', '/auth/passkey/options', { body: { challenge } });
  const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(started.options);
  const credential = await navigator.credentials.get({ publicKey });
  return api('POST', '/auth/passkey', { body: withDevice({ challenge, ceremony: started.ceremony, credential: credential.toJSON() }) });
}
