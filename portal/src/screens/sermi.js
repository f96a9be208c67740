// SERMI: a technician links their authorisation for security-related work by signing in at the trust centre
// (the browser goes there and comes back to #/sermi?linked=1, or ?refused=<code>), and sees until when the
// sign-in there is fresh enough for security work (15 minutes).
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { api, useApi } from '../api.js';
import { N_, t } from '../i18n.js';
import { ErrorBanner, Notice, Page, useAction } from '../ui.js';

const REFUSALS = {
  SERMI_WORKSHOP_MISMATCH: N_('The trust centre authorised you for another workshop (its VAT id is not ours).'),
  SERMI_SIGN_IN_FAILED: N_('The trust centre did not sign you in: your authorisation may be revoked.'),
  SERMI_STATE_INVALID: N_('This answer of the trust centre was used already or is too old: please link again.'),
  SERMI_ID_TOKEN_INVALID: N_('The trust centre\'s answer could not be verified: please link again.'),
  SERMI_CODE_REFUSED: N_('The trust centre did not confirm this sign-in: please link again.'),
  SERMI_CLAIMS_MISSING: N_('The trust centre\'s answer lacks your SERMI details.'),
  SERMI_CHAIN_EXPIRED: N_('Your chain authorisation is older than 24 hours.'),
  SERMI_WORKSHOP_NO_VAT_ID: N_('Security-related work needs your workshop\'s VAT id in AOS.'),
};

export function Sermi({ query }) {
  const status = useApi('/sermi');
  const { error, run } = useAction();
  const [ready, setReady] = useState(null);
  const refused = query.get('refused');
  const link = async () => {
    const started = await run(() => api('POST', '/sermi/link', { body: {} }));
    if (started) location.href = started.authorization_url;
  };
  const check = async () => {
    setReady(null);
    setReady(await run(() => api('POST', '/sermi/check', { body: {} })));
    status.reload();
  };
  const s = status.data;
  return html`<${Page} title=${t('SERMI authorisation')}>
    <p>${t('Security-related work (immobiliser, keys, theft-relevant ECUs) needs your SERMI authorisation, confirmed by the trust centre at a sign-in there within the last 15 minutes.')}</p>
    ${query.get('linked') && html`<${Notice} kind="success"><p>${t('The trust centre confirmed your SERMI authorisation.')}</p></${Notice}>`}
    ${refused && html`<div class="alert error" role="alert" data-code=${refused}>${REFUSALS[refused] ? t(REFUSALS[refused]) : refused}</div>`}
    <${ErrorBanner} error=${status.error || error} />
    ${s && (s.linked ? html`<dl class="facts" data-testid="sermi">
        <div><dt>${t('Authorisation')}</dt><dd>${s.authorisation_id}</dd></div>
        <div><dt>${t('Conformity assessment body')}</dt><dd>${s.body} (${s.country})</dd></div>
        <div><dt>${t('Workshop')}</dt><dd>${s.workshop.name}, ${s.workshop.vat_id}</dd></div>
        <div><dt>${t('Signed in at the trust centre')}</dt><dd>${new Date(s.authenticated_at).toLocaleString()}</dd></div>
        <div><dt>${t('Ready for security work until')}</dt><dd>${new Date(s.fresh_until).toLocaleString()}
          ${' '}(${s.fresh ? t('fresh') : t('sign in there again')})</dd></div>
      </dl>` : html`<p>${t('Not linked yet.')}</p>`)}
    <p><button type="button" onClick=${link}>${s && s.linked ? t('Sign in at the trust centre again') : t('Link my SERMI authorisation')}</button>
      ${s && s.linked && html` <button type="button" onClick=${check}>${t('Am I ready for security work?')}</button>`}</p>
    ${ready && html`<${Notice} kind="success"><p>${t('Yes: the trust centre confirms your authorisation now.')}
      ${' '}<a href="#/security">${t('Security-related work')}</a></p></${Notice}>`}
  </${Page}>`;
}
