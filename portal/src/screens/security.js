// Security-related work (SERMI): a job on one car, the owner's identity recorded first (the ID document's number
// is kept only as a salted hash), then one-time unlock tokens for the car's secure gateway from the challenge the
// gateway shows in the diagnostic tester.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { api, useApi } from '../api.js';
import { N_, t } from '../i18n.js';
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
      <${Field} label=${t('Gateway address')} name="ecu_address" value="0x10" error=${error} scope=${job.id} required />
      <${Field} label=${t('Challenge from the gateway')} name="challenge" error=${error} scope=${job.id} required
        autocomplete="off"
        hint=${t('16 hex digits, as the diagnostic tester shows them')} />
      <button type="submit">${t('Get the unlock token')}</button>
    </form>
    <${ErrorBanner} error=${error} />
    ${token && html`<${Notice} kind="success"><p>${t('Unlock token (once, until {when}):', { when: new Date(token.expires_at).toLocaleTimeString() })}
      ${' '}<code data-testid="unlock-token">${token.token}</code></p></${Notice}>`}`;
}

const STATES = { queued: N_('waiting for the agent'), running: N_('the agent is at it'), done: N_('done'),
  failed: N_('failed') };

// A task of the workshop's agent at the car, followed live until it is done or failed.
function useTask() {
  const [task, setTask] = useState(null);
  useEffect(() => {
    if (!task || task.state === 'done' || task.state === 'failed') return undefined;
    const timer = setTimeout(async () => setTask(await api('GET', `/security/tasks/${task.id}`)), 1000);
    return () => clearTimeout(timer);
  }, [task]);
  return [task, setTask];
}

export function AgentField({ error, scope }) {
  const agents = useApi('/agents');
  const live = agents.data ? agents.data.agents.filter((a) => !a.revoked_at) : [];
  return html`<${Field} label=${t('Agent at the car')} name="agent_id" as="select" error=${error} scope=${scope} required>
    ${live.map((a) => html`<option value=${a.id}>${a.name}${a.online ? '' : ' (' + t('offline') + ')'}</option>`)}
  </${Field}>`;
}

function TaskState({ task, testid, text }) {
  return task && html`<p role="status" data-testid=${testid} data-state=${task.state}>
    ${text(t(STATES[task.state]))}${task.detail ? ' (' + task.detail + ')' : ''}</p>`;
}

// The gateway unlocked online: the agent reads the challenge and writes the token itself.
function UnlockByAgent({ job }) {
  const { error, run } = useAction();
  const [task, setTask] = useTask();
  const submit = async (event) => {
    event.preventDefault();
    setTask(await run(() => api('POST', `/security/jobs/${job.id}/gateway-unlock/agent`, { body: formValues(event.target) })) || null);
  };
  return html`<form onSubmit=${submit} novalidate class="inline-form" aria-label=${t('Unlock the secure gateway of {vin} through the agent', { vin: job.vin })}>
      <${AgentField} error=${error} scope=${job.id + '-unlock'} />
      <button type="submit">${t('Unlock through the agent')}</button>
    </form>
    <${ErrorBanner} error=${error} />
    <${TaskState} task=${task} testid="unlock-task" text=${(state) => t('Gateway unlock: {state}', { state })} />`;
}

// A key into the car's immobiliser: the workshop's agent at the car programs it; its state follows live.
function ProgramKey({ job }) {
  const { error, run } = useAction();
  const [task, setTask] = useTask();
  const submit = async (event) => {
    event.preventDefault();
    const body = formValues(event.target);
    if (body.key_id) body.key_id = body.key_id.replace(/\s/g, '').toLowerCase();
    setTask(await run(() => api('POST', `/security/jobs/${job.id}/keys`, { body })) || null);
  };
  return html`<form onSubmit=${submit} novalidate class="inline-form" aria-label=${t('Program a key for {vin}', { vin: job.vin })}>
      <${AgentField} error=${error} scope=${job.id + '-key'} />
      <${Field} label=${t('Key slot')} name="slot" type="number" min="1" max="8" value="1" error=${error} scope=${job.id}
        required />
      <${Field} label=${t('Transponder id of the new key')} name="key_id" error=${error} scope=${job.id} required
        autocomplete="off"
        hint=${t('16 hex digits, from the key blank')} />
      <button type="submit">${t('Program the key')}</button>
    </form>
    <${ErrorBanner} error=${error} />
    <${TaskState} task=${task} testid="key-job" text=${(state) => t('Key in slot {slot}: {state}', { slot: task.slot, state })} />`;
}

// A theft-relevant replacement (engine control, immobiliser, steering lock) paired with the car by the agent.
function PairUnit({ job }) {
  const { error, run } = useAction();
  const [task, setTask] = useTask();
  const submit = async (event) => {
    event.preventDefault();
    setTask(await run(() => api('POST', `/security/jobs/${job.id}/pairing`, { body: formValues(event.target) })) || null);
  };
  return html`<form onSubmit=${submit} novalidate class="inline-form" aria-label=${t('Pair a replacement unit with {vin}', { vin: job.vin })}>
      <${AgentField} error=${error} scope=${job.id + '-pair'} />
      <${Field} label=${t('Address of the new unit')} name="ecu_address" error=${error} scope=${job.id + '-pair'} required
        autocomplete="off" hint=${t('e.g. 0x40: engine control, the immobiliser or the steering lock')} />
      <button type="submit">${t('Pair the unit')}</button>
    </form>
    <${ErrorBanner} error=${error} />
    <${TaskState} task=${task} testid="pair-task" text=${(state) => t('Pairing: {state}', { state })} />`;
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
      <h3>${t('Secure gateway')}</h3>
      <${Unlock} job=${job} />
      <${UnlockByAgent} job=${job} />
      <h3>${t('Key programming')}</h3>
      <${ProgramKey} job=${job} />
      <h3>${t('A replacement unit')}</h3>
      <${PairUnit} job=${job} />
    </section>`)}
  </${Page}>`;
}
