// Programming: the workshop's agents, opening a session for a VIN, the pre-flight checklist filling in live,
// the start, per-ECU progress, the clock (paused while the agent is silent), the timeout dialog with a top-up,
// and the summary with the seconds billed.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { api, useApi, useSession } from '../api.js';
import { clock, dateTime, money, N_, number, t } from '../i18n.js';
import { Dialog, download, ErrorBanner, Field, formValues, Loading, Notice, Page, useAction } from '../ui.js';
import { BuyDialog, TopUp } from './billing.js';
import { currentVin } from './air.js';

const LIVE = ['preflight', 'ready', 'running', 'interrupted'];

function RegisterAgent({ onRegistered }) {
  const { error, run } = useAction();
  const [agent, setAgent] = useState(null);
  const submit = async (event) => {
    event.preventDefault();
    const body = formValues(event.target);
    const registered = await run(() => api('POST', '/agents', { body }));
    if (registered) {
      setAgent(registered);
      onRegistered();
    }
  };
  return html`<section aria-labelledby="register-agent"><h2 id="register-agent">${t('Register an agent')}</h2>
    <p>${t('The agent is the program on the workshop PC that talks to the car through the pass-through device.')}</p>
    <form onSubmit=${submit} novalidate class="inline-form">
      <${Field} label=${t('Name of the PC')} name="name" error=${error} required maxlength="100" hint=${t('e.g. Bay 2 laptop')} />
      <button type="submit">${t('Register')}</button>
    </form>
    <${ErrorBanner} error=${error} />
    ${agent && html`<${AgentCredential} agent=${agent} />`}
  </section>`;
}

// A credential shown once (at registration or renewal): the configuration file to put on the PC.
function AgentCredential({ agent }) {
  const config = JSON.stringify({ api: location.origin, ...agent }, null, 2);
  return html`<${Notice} kind="warning">
    <p>${t('Agent {name} is registered. Its credential is shown only now: download the configuration and put it on the PC.', { name: agent.name })}</p>
    <p>${t('Agent id')}: <code data-testid="agent-id">${agent.id}</code></p>
    <p><button type="button" onClick=${() => download('aos-agent.json', new Blob([config], { type: 'application/json' }))}>
      ${t('Download the agent configuration')}</button></p>
    <p>${t('Then start it beside the car:')}</p>
    <pre><code>${'python -m agent run --config aos-agent.json --vehicle <car address>:13400 --manufacturer-key manufacturer.pem'}</code></pre>
  </${Notice}>`;
}

// The owner or an admin keeps the workshop's agents: a new credential (the old one stops), or revoked for good.
function AgentActions({ agent, onChanged, onRenewed }) {
  const { error, run } = useAction();
  if (agent.revoked_at) return html` · <em>${t('revoked')}</em>`;
  const renew = () => run(async () => onRenewed(await api('POST', `/agents/${agent.id}/credential`, { body: {} })));
  const revoke = () => run(async () => { await api('POST', `/agents/${agent.id}/revoke`, { body: {} }); onChanged(); });
  return html` <button type="button" class="link" onClick=${renew}>${t('New credential for {name}', { name: agent.name })}</button>
    ${' '}<button type="button" class="link" onClick=${revoke}>${t('Revoke {name}', { name: agent.name })}</button>
    <${ErrorBanner} error=${error} />`;
}

function Sessions() {
  const sessions = useApi('/programming/sessions');
  if (!sessions.data) return html`<${ErrorBanner} error=${sessions.error} />`;
  if (sessions.data.sessions.length === 0) return null;
  return html`<section aria-labelledby="sessions"><h2 id="sessions">${t('Sessions')}</h2>
    <div class="table-wrap" tabindex="0" role="region" aria-label=${t('Sessions')}><table>
      <thead><tr><th scope="col">${t('Opened')}</th><th scope="col">${t('VIN')}</th><th scope="col">${t('Status')}</th>
        <th scope="col">${t('Outcome')}</th><th scope="col" class="num">${t('Seconds billed')}</th></tr></thead>
      <tbody>${sessions.data.sessions.map((x) => html`<tr data-session=${x.id}>
        <td><a href=${'#/programming/' + x.id}>${dateTime(x.created_at)}</a></td><td>${x.vin}</td>
        <td>${t(STATES[x.state] || x.state)}</td><td>${x.outcome || ''}</td>
        <td class="num">${x.seconds_billed != null ? number(x.seconds_billed) : ''}</td></tr>`)}</tbody>
    </table></div></section>`;
}

export function Programming({ query }) {
  const agents = useApi('/agents');
  const session = useSession();
  const keeper = session && session.me && ['owner', 'admin'].includes(session.me.user.role);
  const [renewed, setRenewed] = useState(null);
  const { error, run } = useAction();
  useEffect(() => { // who is online changes by itself
    const timer = setInterval(agents.reload, 5000);
    return () => clearInterval(timer);
  }, []);
  const open = async (event) => {
    event.preventDefault();
    const body = formValues(event.target);
    body.vin = (body.vin || '').trim().toUpperCase();
    const session = await run(() => api('POST', '/programming/sessions', { body }));
    if (session) location.hash = '#/programming/' + session.id;
  };
  const all = agents.data ? agents.data.agents : [];
  const list = all.filter((a) => !a.revoked_at);
  return html`<${Page} title=${t('Programming')} wide>
    <section aria-labelledby="open"><h2 id="open">${t('Open a session')}</h2>
      <p>${t('The agent reads the car first (battery, VIN, control units) and prepares the software. The clock starts only when you start programming.')}</p>
      ${list.length === 0 ? html`<p>${t('Register an agent first.')}</p>` : html`
      <form onSubmit=${open} novalidate class="inline-form">
        <${Field} label=${t('VIN')} name="vin" defaultValue=${currentVin(query)} error=${error} required maxlength="17" autocomplete="off" />
        <${Field} label=${t('Agent')} name="agent_id" as="select" error=${error} required>
          ${list.map((a) => html`<option value=${a.id}>${a.name} (${a.online ? t('online') : t('offline')})</option>`)}
        </${Field}>
        <button class="primary" type="submit">${t('Open session')}</button>
      </form>`}
      <${ErrorBanner} error=${error} />
      ${error && error.code === 'PROGRAMMING_TIME_REQUIRED' && html`<p><a class="button" href=${buyLink(error)}>${t('Buy programming time')}</a></p>`}
    </section>
    <${Sessions} />
    <section aria-labelledby="agents"><h2 id="agents">${t('Agents')}</h2>
      <${ErrorBanner} error=${agents.error} />
      ${agents.loading && !agents.data && html`<${Loading} />`}
      ${all.length > 0 && html`<ul class="agents">${all.map((a) => html`<li data-agent=${a.id}>
        <span class=${'dot ' + (a.online ? 'online' : 'offline')} aria-hidden="true"></span>
        <strong>${a.name}</strong> · ${a.online ? t('online') : t('offline')}
        ${a.last_seen_at ? html` · <small>${t('last seen {when}', { when: dateTime(a.last_seen_at) })}</small>` : ''}
        ${keeper && html`<${AgentActions} agent=${a} onChanged=${agents.reload} onRenewed=${setRenewed} />`}</li>`)}</ul>`}
      ${renewed && html`<${AgentCredential} agent=${renewed} />`}
    </section>
    <${RegisterAgent} onRegistered=${agents.reload} />
  </${Page}>`;
}

const CHECKS = [
  ['agent_connected', N_('Agent connected')],
  ['battery_ok', N_('Battery voltage sufficient')],
  ['vin_matches', N_('VIN read from the car matches')],
  ['ecus_read', N_('Control units read')],
  ['plan_computed', N_('Programming plan computed')],
  ['binaries_verified', N_('Software downloaded and signatures checked')],
];
const STATES = { preflight: N_('Pre-flight check'), ready: N_('Ready to start'), running: N_('Programming'), interrupted: N_('Paused: the agent is silent'),
  ended: N_('Ended'), expired: N_('Ended: paid time used up') };
const ECU_STATUS = { pending: N_('waiting'), flashing: N_('programming'), done: N_('done'), failed: N_('failed'), skipped: N_('already current') };

function Checklist({ preflight }) {
  return html`<ul class="checklist" aria-live="polite">
    ${CHECKS.map(([key, label]) => html`<li class=${preflight[key] ? 'ok' : 'waiting'} data-check=${key}>
      <span aria-hidden="true">${preflight[key] ? '✔' : '…'}</span> ${t(label)}
      <span class="sr-only">${preflight[key] ? t('done') : t('waiting')}</span>
      ${key === 'battery_ok' && preflight.voltage_mv ? html` <small>(${number(preflight.voltage_mv / 1000)} V)</small>` : ''}
    </li>`)}
  </ul>`;
}

function Plan({ plan }) {
  const done = plan.filter((p) => p.status === 'done' || p.status === 'skipped').length;
  return html`<div>
    <p><label for="overall">${t('{done} of {total} control units', { done, total: plan.length })}</label>
      <progress id="overall" max=${plan.length || 1} value=${done}></progress></p>
    <div class="table-wrap" tabindex="0" role="region" aria-label=${t('Programming plan')}><table class="plan">
      <thead><tr><th scope="col">${t('Control unit')}</th><th scope="col">${t('From')}</th><th scope="col">${t('To')}</th>
        <th scope="col" class="num">${t('Size')}</th><th scope="col">${t('Status')}</th></tr></thead>
      <tbody>${plan.map((p) => html`<tr class=${'ecu-' + p.status} data-ecu=${p.ecu_address}><th scope="row">${p.ecu_address}</th>
        <td>${p.from_version}</td><td>${p.to_version}</td><td class="num">${number(Math.round(p.size / 1024))} KiB</td>
        <td><strong>${t(ECU_STATUS[p.status] || p.status)}</strong></td></tr>`)}</tbody>
    </table></div>
  </div>`;
}

// Programming time bought without leaving the session: a pack from the credit account, or a top-up first.
function PayForTime({ packs, onBuy }) {
  return html`<div class="pay-for-time">
    <ul class="actions">${packs.map((pack) => html`<li><button type="button" onClick=${() => onBuy(pack)}>${t('Buy')} ${pack.name}</button></li>`)}</ul>
    <h3>${t('Top up credit')}</h3>
    <${TopUp} />
  </div>`;
}

export function ProgrammingSession({ id }) {
  const [session, setSession] = useState(null);
  const [error, setError] = useState(null);
  const action = useAction();
  const [timeoutSeen, setTimeoutSeen] = useState(false);
  const [buying, setBuying] = useState(null);
  const me = useSession().me;
  const tariffs = useApi(`/tariffs?country=${me.operator.country}`);
  const [bought, setBought] = useState(null);
  useEffect(() => {
    let live = true;
    let timer = null;
    const poll = async () => {
      try {
        const next = await api('GET', `/programming/sessions/${id}`);
        if (!live) return;
        setSession(next);
        setError(null);
        if (LIVE.includes(next.state)) timer = setTimeout(poll, 1000);
      } catch (exc) {
        if (live) { setError(exc); timer = setTimeout(poll, 3000); }
      }
    };
    poll();
    return () => { live = false; clearTimeout(timer); };
  }, [id]);
  const act = async (step) => {
    const next = await action.run(() => api('POST', `/programming/sessions/${id}/${step}`, { body: {} }));
    if (next) setSession(next);
  };
  if (!session) return html`<${Page} title=${t('Programming session')}><${ErrorBanner} error=${error} />${!error && html`<${Loading} />`}</${Page}>`;
  const live = LIVE.includes(session.state);
  const lowTime = session.paid_by === 'time' && session.state === 'running' && session.left_seconds < 60;
  const showTimeout = (session.state === 'expired' || lowTime) && !timeoutSeen;
  const packs = tariffs.data ? tariffs.data.tariffs.filter((x) => x.kind === 'programming_pack') : [];
  return html`<${Page} title=${t('Programming {vin}', { vin: session.vin })} wide>
    <p class="state" data-state=${session.state} role="status">${t(STATES[session.state] || session.state)}</p>
    <${ErrorBanner} error=${error} />
    <section aria-labelledby="clock-title" class="clock-panel"><h2 id="clock-title">${t('Clock')}</h2>
      <dl class="figures">
        <div><dt>${t('Used')}</dt><dd data-testid="used">${clock(session.used_seconds)}</dd></div>
        <div><dt>${t('Left')}</dt><dd data-testid="left">${session.paid_by === 'vin_pass' ? t('VIN pass') : clock(session.left_seconds)}</dd></div>
        <div><dt>${t('Clock')}</dt><dd>${session.clock_running ? t('running') : t('stopped')}</dd></div>
      </dl>
      ${session.state === 'interrupted' && html`<${Notice} kind="warning">${t('The agent has gone silent. The clock stands still; the session goes on when the agent comes back.')}</${Notice}>`}
      ${session.in_grace && html`<${Notice} kind="warning">${t('Paid time is used up; the control unit being programmed is finished free of charge.')}</${Notice}>`}
    </section>
    ${session.state !== 'ended' && session.state !== 'expired' ? html`
      <section aria-labelledby="preflight"><h2 id="preflight">${t('Pre-flight check')}</h2><${Checklist} preflight=${session.preflight} /></section>` : null}
    ${session.plan.length > 0 && html`<section aria-labelledby="plan"><h2 id="plan">${t('Control units')}</h2><${Plan} plan=${session.plan} /></section>`}
    ${(session.preflight.left_out || []).length > 0 && html`<section aria-labelledby="left-out"><h2 id="left-out">${t('Left out of this session')}</h2>
      <${Notice} kind="warning"><ul data-testid="left-out">${session.preflight.left_out.map((x) => html`<li>${x.message}</li>`)}</ul>
        <p><a href="#/sermi">${t('SERMI authorisation')}</a> · <a href="#/security">${t('Security jobs')}</a></p></${Notice}></section>`}
    ${bought && html`<${Notice} kind="success">${t('Bought: {name} for {price}.', { name: bought.tariff_name, price: money(bought.gross_cents, bought.currency) })}</${Notice}>`}
    <${ErrorBanner} error=${action.error} />
    ${action.error && action.error.code === 'PROGRAMMING_TIME_REQUIRED' && html`<${PayForTime} packs=${packs} onBuy=${setBuying} />`}
    ${live && html`<p class="actions">
      ${session.state === 'ready' && html`<button class="primary" type="button" disabled=${action.busy} onClick=${() => act('start')}>${t('Start programming')}</button>`}
      <button type="button" disabled=${action.busy} onClick=${() => act('end')}>${t('End session')}</button></p>`}
    ${!live && html`<section aria-labelledby="summary" class="summary-panel"><h2 id="summary">${t('Summary')}</h2>
      <dl class="facts">
        <div><dt>${t('Outcome')}</dt><dd data-testid="outcome">${session.outcome || session.state}</dd></div>
        ${session.failure_side && html`<div><dt>${t('Failure on the side of')}</dt><dd>${session.failure_side === 'platform' ? t('AOS (not billed)') : t('the workshop')}</dd></div>`}
        <div><dt>${t('Time used')}</dt><dd>${clock(session.used_seconds)}</dd></div>
        <div><dt>${t('Seconds billed')}</dt><dd data-testid="billed">${session.seconds_billed != null ? number(session.seconds_billed) : '–'}</dd></div>
        <div><dt>${t('Ended')}</dt><dd>${dateTime(session.ended_at)}</dd></div>
      </dl>
      ${session.message && html`<p>${session.message}</p>`}
      <p><a class="button" href="#/programming">${t('Back to programming')}</a></p>
    </section>`}
    <${Dialog} open=${showTimeout && !buying} title=${session.state === 'expired' ? t('Programming session timeout') : t('Programming time is running out')}
      onClose=${() => setTimeoutSeen(true)}>
      <p>${session.state === 'expired' ? t('The paid programming time is used up. Buy a programming pack and open a new session to go on.')
        : t('Less than a minute of programming time is left. Buy more now and the session goes on without a stop.')}</p>
      <${PayForTime} packs=${packs} onBuy=${setBuying} />
      <p><button type="button" onClick=${() => setTimeoutSeen(true)}>${t('Close')}</button></p>
    </${Dialog}>
    <${BuyDialog} tariff=${buying} onClose=${() => setBuying(null)} onBought=${(purchase) => { setBuying(null); setTimeoutSeen(true); action.reset(); setBought(purchase); }} />
  </${Page}>`;
}

// What the refusal offers (billing's tariffs for programming, named by the API), the first of them to buy.
function buyLink(error) {
  const offered = (error.details && error.details.tariffs) || [];
  return offered.length ? `#/billing?buy=${encodeURIComponent(offered[0])}` : '#/billing';
}
