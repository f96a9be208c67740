// Security-related work (SERMI): a job on one car, the owner's identity recorded first (the ID document's number
// is kept only as a salted hash), then one-time unlock tokens for the car's secure gateway from the challenge the
// gateway shows in the diagnostic tester.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { api, useApi } from '../api.js';
import { t } from '../i18n.js';
import { ErrorBanner, Field, formValues, Notice, Page, useAction } from '../ui.js';

function Unlock({ job }) {
  const { error, run } = useAction();
  const [token, setToken] = useState(null);
  const submit = async (event) => {
    event.preventDefault();
    const body = formValues(event.target);
    if (body.challenge) body.challenge = body.challenge.replace(/\s/g, '').toLowerCase();
    setToken(await run(() => api('POST', `/security/jobs/${job.id}/gateway-unlock`, { body })) || null);
  };
  return html`<form onSubmit=${submit} novalidate class="inline-form" aria-label=${t('Unlock the secure gateway of {vin}', { vin: job.vin })}>
      <${Field} label=${t('Gateway address')} name="ecu_address" value="0x10" error=${error} required />
      <${Field} label=${t('Challenge from the gateway')} name="challenge" error=${error} required autocomplete="off"
        hint=${t('16 hex digits, as the diagnostic tester shows them')} />
      <button type="submit">${t('Get the unlock token')}</button>
    </form>
    <${ErrorBanner} error=${error} />
    ${token && html`<${Notice} kind="success"><p>${t('Unlock token (once, until {when}):', { when: new Date(token.expires_at).toLocaleTimeString() })}
      ${' '}<code data-testid="unlock-token">${token.token}</code></p></${Notice}>`}`;
}

export function Security() {
  const jobs = useApi('/security/jobs');
  const { error, run } = useAction();
  const open = async (event) => {
    event.preventDefault();
    const form = event.target;
    const body = formValues(form);
    if (body.vin) body.vin = body.vin.trim().toUpperCase();
    if (await run(() => api('POST', '/security/jobs', { body }))) {
      form.reset();
      jobs.reload();
    }
  };
  const current = jobs.data && jobs.data.jobs.filter((j) => j.open);
  return html`<${Page} title=${t('Security-related work')} wide>
    <p>${t('Work on immobiliser, keys and the secure gateway needs your SERMI authorisation (signed in at the trust centre within 15 minutes) and the vehicle owner\'s identity, recorded before the work. Every step is in the audit trail.')}
      ${' '}<a href="#/sermi">${t('SERMI authorisation')}</a></p>
    <section aria-labelledby="new-job"><h2 id="new-job">${t('Open a security job')}</h2>
      <form onSubmit=${open} novalidate class="inline-form">
        <${Field} label=${t('VIN')} name="vin" error=${error} required maxlength="17" autocomplete="off" />
        <${Field} label=${t('Vehicle owner (as on the ID document)')} name="owner_name" error=${error} required />
        <${Field} label=${t('ID document number')} name="owner_document_number" error=${error} required autocomplete="off"
          hint=${t('Kept only as a salted hash.')} />
        <button type="submit">${t('Open the job')}</button>
      </form>
      <${ErrorBanner} error=${error} />
    </section>
    <${ErrorBanner} error=${jobs.error} />
    ${current && current.map((job) => html`<section class="card" data-testid="security-job" aria-label=${t('Security job on {vin}', { vin: job.vin })}>
      <h2>${job.vin}</h2>
      <p>${t('Owner: {name}. SERMI authorisation {id}. Open until {when}.', { name: job.owner_name, id: job.authorisation_id, when: new Date(job.expires_at).toLocaleTimeString() })}</p>
      <${Unlock} job=${job} />
    </section>`)}
  </${Page}>`;
}
