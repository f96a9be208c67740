// Registration, sign-in with the second factor, TOTP enrolment with recovery codes, accepting an invitation.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { api, signIn, withDevice } from '../api.js';
import { signInWithPasskey } from './account.js';
import { t } from '../i18n.js';
import { download, ErrorBanner, Field, formValues, Loading, Notice, Page, useAction } from '../ui.js';

const COUNTRIES = ['AT', 'BE', 'BG', 'CY', 'CZ', 'DE', 'DK', 'EE', 'ES', 'FI', 'FR', 'GR', 'HR', 'HU', 'IE', 'IT', 'LT',
  'LU', 'LV', 'MT', 'NL', 'PL', 'PT', 'RO', 'SE', 'SI', 'SK', 'IS', 'LI', 'NO', 'CH', 'GB'];
const ENROLMENT = 'aos.enrolment';

function countryName(code) {
  try { return new Intl.DisplayNames([document.documentElement.lang], { type: 'region' }).of(code); } catch (e) { return code; }
}

// The API's QR code is inline SVG; as a picture of its own it needs the SVG namespace.
function svgImage(svg) {
  const standalone = svg.includes('xmlns=') ? svg : svg.replace('<svg', '<svg xmlns="http://www.w3.org/2000/svg"');
  return 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(standalone);
}

// After the password: a code, or the enrolment of a factor when the account has none yet.
async function afterPassword(answer) {
  if (answer.next === 'enrol') {
    sessionStorage.setItem(ENROLMENT, answer.enrolment_token);
    location.hash = '#/enrol';
    return null;
  }
  return answer;
}

export function Register() {
  const { busy, error, run } = useAction();
  const [sent, setSent] = useState(null); // the answer: a link to confirm the address is on its way
  const submit = (event) => {
    event.preventDefault();
    const body = formValues(event.target);
    run(async () => setSent(await api('POST', '/operators', { body })));
  };
  if (sent) {
    return html`<${Page} title=${t('Check your mail')}>
      <${Notice} kind="success">${t('We have sent a mail to {email}. Open its link to confirm the address, then sign in to set up your second factor.', { email: sent.sent_to })}</${Notice}>
      <p><a class="button" href="#/login">${t('Sign in')}</a></p>
    </${Page}>`;
  }
  return html`<${Page} title=${t('Register your workshop')}>
    <p>${t('The company and its first user, the owner. The owner then sets up a second factor and can invite colleagues.')}</p>
    <form onSubmit=${submit} novalidate>
      <${ErrorBanner} error=${error} />
      <fieldset><legend>${t('Workshop')}</legend>
        <${Field} label=${t('Company name')} name="operator.legal_name" error=${error} required autocomplete="organization" />
        <${Field} label=${t('Legal form')} name="operator.legal_form" error=${error} required hint=${t('e.g. GmbH, e.K., Ltd')} />
        <${Field} label=${t('Kind of business')} name="operator.kind" as="select" error=${error} required
          hint=${t('A data subscriber (a tool maker, a partner system) reads the data through API keys and does not work on cars.')}>
          <option value="workshop" selected>${t('Workshop')}</option>
          <option value="data_subscriber">${t('Data subscriber')}</option>
        </${Field}>
        <${Field} label=${t('Country')} name="operator.country" as="select" error=${error} required>
          ${COUNTRIES.map((code) => html`<option value=${code} selected=${code === 'DE'}>${countryName(code)}</option>`)}
        </${Field}>
        <${Field} label=${t('VAT id')} name="operator.vat_id" error=${error}
          hint=${t('With a VAT id from another EU country, prices are without VAT (reverse charge).')} />
        <${Field} label=${t('Street and number')} name="operator.address.street" error=${error} required autocomplete="street-address" />
        <${Field} label=${t('Postal code')} name="operator.address.postal_code" error=${error} required autocomplete="postal-code" />
        <${Field} label=${t('City')} name="operator.address.city" error=${error} required autocomplete="address-level2" />
      </fieldset>
      <fieldset><legend>${t('Owner')}</legend>
        <${Field} label=${t('Name')} name="owner.name" error=${error} required autocomplete="name" />
        <${Field} label=${t('Email')} name="owner.email" type="email" error=${error} required autocomplete="email" />
        <${Field} label=${t('Password')} name="owner.password" type="password" error=${error} required autocomplete="new-password"
          hint=${t('At least 12 characters; a passphrase is best.')} />
      </fieldset>
      <button class="primary" type="submit" disabled=${busy}>${t('Register')}</button>
    </form>
  </${Page}>`;
}

export function Login() {
  const { busy, error, run, reset } = useAction();
  const [login, setLogin] = useState(null); // the password step's answer: the challenge and the factors to choose
  const challenge = login && login.challenge;
  const [recovery, setRecovery] = useState(false);
  const password = (event) => {
    event.preventDefault();
    const body = formValues(event.target);
    run(async () => setLogin(await afterPassword(await api('POST', '/auth/login', { body: withDevice(body) }))));
  };
  const passkey = () => run(async () => {
    await signIn(await signInWithPasskey(challenge, withDevice));
    location.hash = '#/workshop';
  });
  const second = (event) => {
    event.preventDefault();
    const values = formValues(event.target);
    const body = recovery ? { challenge, recovery_code: values.recovery_code } : { challenge, code: values.code };
    run(async () => {
      await signIn(await api('POST', '/auth/totp', { body: withDevice(body) }));
      location.hash = '#/workshop';
    });
  };
  if (!challenge) {
    return html`<${Page} title=${t('Sign in')}>
      <form onSubmit=${password} novalidate>
        <${ErrorBanner} error=${error} />
        <${Field} label=${t('Email')} name="email" type="email" error=${error} required autocomplete="username" />
        <${Field} label=${t('Password')} name="password" type="password" error=${error} required autocomplete="current-password" />
        <button class="primary" type="submit" disabled=${busy}>${t('Continue')}</button>
      </form>
      <p><a href="#/forgot-password">${t('Forgot your password?')}</a></p>
      <p>${t('No account yet?')} <a href="#/register">${t('Register a workshop')}</a></p>
    </${Page}>`;
  }
  return html`<${Page} title=${t('Second factor')}>
    <form onSubmit=${second} novalidate key=${recovery ? 'recovery' : 'code'}>
      <${ErrorBanner} error=${error} />
      ${recovery
        ? html`<${Field} label=${t('Recovery code')} name="recovery_code" error=${error} required autocomplete="off" />`
        : html`<${Field} label=${t('Code from your authenticator app')} name="code" error=${error} required
            inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" />`}
      <button class="primary" type="submit" disabled=${busy}>${t('Sign in')}</button>
      <button type="button" class="link" onClick=${() => { setRecovery(!recovery); reset(); }}>
        ${recovery ? t('Use a code from the app') : t('Use a recovery code instead')}</button>
    </form>
    ${(login.factors || []).includes('passkey') && html`<p><button type="button" disabled=${busy} onClick=${passkey}>${t('Use a passkey')}</button></p>`}
  </${Page}>`;
}

export function Enrol() {
  const token = sessionStorage.getItem(ENROLMENT);
  const [enrolment, setEnrolment] = useState(null);
  const [confirmed, setConfirmed] = useState(null);
  const [loadError, setLoadError] = useState(null);
  const { error, run } = useAction();
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    if (token) api('POST', '/auth/totp/enrol', { token, body: {} }).then(setEnrolment, setLoadError);
  }, [token]);
  if (!token) {
    return html`<${Page} title=${t('Set up your second factor')}>
      <p>${t('Sign in with your email and password first.')}</p><p><a class="button" href="#/login">${t('Sign in')}</a></p></${Page}>`;
  }
  const confirm = (event) => {
    event.preventDefault();
    const body = formValues(event.target);
    run(async () => setConfirmed(await api('POST', '/auth/totp/confirm', { token, body: withDevice(body) })));
  };
  async function done() {
    sessionStorage.removeItem(ENROLMENT);
    const { recovery_codes: _, ...tokens } = confirmed;
    await signIn(tokens);
    location.hash = '#/workshop';
  }
  if (confirmed) {
    const text = confirmed.recovery_codes.join('\n') + '\n';
    return html`<${Page} title=${t('Your recovery codes')}>
      <${Notice} kind="warning">${t('These codes are shown only now. Each one signs you in once when your phone is not at hand. Keep them somewhere safe.')}</${Notice}>
      <ol class="codes" aria-label=${t('Recovery codes')}>${confirmed.recovery_codes.map((code) => html`<li><code>${code}</code></li>`)}</ol>
      <p class="actions"><button type="button" onClick=${() => download('aos-recovery-codes.txt', new Blob([text], { type: 'text/plain' }))}>
        ${t('Download the codes')}</button></p>
      <div class="check"><input type="checkbox" id="saved" checked=${saved} onChange=${(e) => setSaved(e.target.checked)} />
        <label for="saved">${t('I have saved my recovery codes')}</label></div>
      <p><button class="primary" type="button" disabled=${!saved} onClick=${done}>${t('Continue to my workshop')}</button></p>
    </${Page}>`;
  }
  return html`<${Page} title=${t('Set up your second factor')}>
    <${ErrorBanner} error=${loadError} />
    ${!enrolment ? (!loadError && html`<${Loading} />`) : html`
      <ol class="steps">
        <li>${t('Scan the QR code with an authenticator app (such as FreeOTP, Aegis or Google Authenticator).')}
          <div class="qr"><img alt=${t('QR code for your authenticator app')} width="200" height="200"
            src=${svgImage(enrolment.qr_svg)} /></div>
          <p>${t('Or type this key into the app:')} <code class="secret" data-secret=${enrolment.secret}>${enrolment.secret.match(/.{1,4}/g).join(' ')}</code></p>
        </li>
        <li>${t('Enter the 6-digit code the app shows.')}
          <form onSubmit=${confirm} novalidate>
            <${ErrorBanner} error=${error} />
            <${Field} label=${t('Code from your authenticator app')} name="code" error=${error} required
              inputmode="numeric" autocomplete="one-time-code" maxlength="6" />
            <button class="primary" type="submit">${t('Confirm')}</button>
          </form>
        </li>
      </ol>`}
  </${Page}>`;
}

export function AcceptInvitation({ query }) {
  const { error, run } = useAction();
  const submit = (event) => {
    event.preventDefault();
    const body = { token: query.get('token') || '', ...formValues(event.target) };
    run(async () => {
      const joined = await api('POST', '/auth/invitations/accept', { body });
      sessionStorage.setItem(ENROLMENT, joined.enrolment_token);
      location.hash = '#/enrol';
    });
  };
  return html`<${Page} title=${t('Join your workshop')}>
    <p>${t('Choose a password; then set up your second factor.')}</p>
    <form onSubmit=${submit} novalidate>
      <${ErrorBanner} error=${error} />
      <${Field} label=${t('Password')} name="password" type="password" error=${error} required autocomplete="new-password"
        hint=${t('At least 12 characters; a passphrase is best.')} />
      <button class="primary" type="submit">${t('Join')}</button>
    </form>
  </${Page}>`;
}
