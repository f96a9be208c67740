// The job on the lift: open a job for a car with the customer's complaint, diagnose it through the workshop's
// agent (quick test, live data as a chart that moves while the agent reads, actuator tests, clear), follow each
// fault code to its documents, pick the operations with their labour times, close with the service record and
// the PDF report.
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, useApi } from '../api.js';
import { money, N_, t } from '../i18n.js';
import { download, ErrorBanner, Field, formValues, Notice, Offer, Page, useAction } from '../ui.js';
import { Coding, Replacement } from './coding.js';
import { AgentField } from './security.js';

const RUNS = { quick_test: N_('Quick test'), live_data: N_('Live data'), routine: N_('Actuator test'), clear: N_('Clear fault memory'),
  read_coding: N_('Read the coding'), write_coding: N_('Write the coding'), backup_ecu: N_('Back up a unit'),
  restore_ecu: N_('Restore a unit') };
const RUN_STATES = { queued: N_('waiting for the agent'), running: N_('the agent is at it'), done: N_('done'),
  failed: N_('failed'), interrupted: N_('interrupted'), cancelled: N_('cancelled') };
const DEFAULT_LIVE = ['engine_speed', 'coolant_temperature', 'battery_voltage', 'misfires_cylinder_1'];

export function Jobs() {
  const jobs = useApi('/jobs');
  const { error, run } = useAction();
  const open = async (event) => {
    event.preventDefault();
    const body = formValues(event.target);
    if (body.vin) body.vin = body.vin.trim().toUpperCase();
    if (body.odometer_km !== undefined) body.odometer_km = Number(body.odometer_km);
    if (body.labour_rate_cents !== undefined) body.labour_rate_cents = Math.round(Number(body.labour_rate_cents) * 100);
    const opened = await run(() => api('POST', '/jobs', { body }));
    if (opened) location.hash = `#/jobs/${opened.id}`;
  };
  return html`<${Page} title=${t('Jobs')} wide>
    <section aria-labelledby="new-job"><h2 id="new-job">${t('Open a job')}</h2>
      <form onSubmit=${open} novalidate class="inline-form">
        <${Field} label=${t('VIN')} name="vin" error=${error} required maxlength="17" autocomplete="off" />
        <${AgentField} error=${error} />
        <${Field} label=${t('Customer complaint')} name="complaint" error=${error} required />
        <${Field} label=${t('Odometer (km)')} name="odometer_km" type="number" min="0" error=${error} required />
        <${Field} label=${t('Labour rate per hour, net (€)')} name="labour_rate_cents" type="number" min="1" step="0.01"
          value="95" error=${error} required />
        <button type="submit">${t('Open the job')}</button>
      </form>
      <${ErrorBanner} error=${error} />
      ${error && error.status === 402 && html`<${Offer} tariffs=${error.details.tariffs} message=${error.message} />`}
    </section>
    <${ErrorBanner} error=${jobs.error} />
    ${jobs.data && html`<table class="list"><caption>${t('Your jobs')}</caption>
      <thead><tr><th scope="col">${t('VIN')}</th><th scope="col">${t('Complaint')}</th><th scope="col">${t('Faults found')}</th>
        <th scope="col">${t('State')}</th><th scope="col">${t('Opened')}</th></tr></thead>
      <tbody>${jobs.data.jobs.map((j) => html`<tr data-testid="job-row">
        <td><a href=${`#/jobs/${j.id}`}>${j.vin}</a></td><td>${j.complaint}</td><td>${j.faults.join(', ') || '–'}</td>
        <td>${t(j.state === 'open' ? 'open' : 'closed')}</td><td>${new Date(j.opened_at).toLocaleString()}</td></tr>`)}</tbody>
    </table>`}
  </${Page}>`;
}

function Reading({ reading }) {
  const value = reading.value !== undefined && reading.value !== null ? reading.value : reading.raw;
  const out = reading.in_limits === false;
  return html`<tr class=${out ? 'out-of-limits' : ''}><th scope="row">${reading.label}</th>
    <td>${value} ${reading.unit || ''}</td>
    <td>${reading.min !== null && reading.min !== undefined ? `${reading.min} – ${reading.max}` : '–'}</td>
    <td>${out ? t('outside its limits') : reading.in_limits ? t('in limits') : ''}</td></tr>`;
}

// Readings against the test plan's limits, one row each (those outside them stand out).
function Readings({ caption, readings, testid }) {
  return html`<table class="list" data-testid=${testid}><caption>${caption}</caption>
    <thead><tr><th scope="col">${t('Value')}</th><th scope="col">${t('Reading')}</th><th scope="col">${t('Limits')}</th><th scope="col">${t('Check')}</th></tr></thead>
    <tbody>${readings.map((r) => ((r.value === null || r.value === undefined) && !r.raw
      ? html`<tr><th scope="row">${r.label}</th><td>${t('not read yet')}</td><td>–</td><td></td></tr>`
      : html`<${Reading} reading=${r} />`))}</tbody></table>`;
}

function FaultMemory({ ecus, title, testid }) {
  if (!ecus) return null;
  const faults = ecus.flatMap((e) => (e.dtcs || []).map((d) => ({ ...d, ecu: e })));
  const silent = ecus.filter((e) => !e.reachable);
  return html`<section aria-label=${title} data-testid=${testid}><h2>${title}</h2>
    ${silent.map((e) => html`<${Notice} kind="warning"><p>${t('{ecu} did not answer: {why}', { ecu: `${e.address} ${e.name}`, why: e.error })}</p></${Notice}>`)}
    ${faults.length === 0 ? html`<p data-testid="no-faults">${t('No fault stored in {n} control units.', { n: ecus.length - silent.length })}</p>`
      : faults.map((d) => html`<article class="card dtc" data-code=${d.code}>
        <h3>${d.code} ${d.text}</h3>
        <p>${d.ecu.address} ${d.ecu.name} · ${t('status')} ${d.status} · ${d.test_failed ? t('present now') : t('stored')}
          ${d.occurrences !== null && d.occurrences !== undefined ? ' · ' + t('{n} occurrence(s)', { n: d.occurrences }) : ''}
          ${d.known ? '' : ' · ' + t('not described in the ODX: shown raw')}</p>
        ${d.freeze_frame && d.freeze_frame.length > 0 && html`<${Readings} caption=${t('Freeze frame')} readings=${d.freeze_frame} />`}
      </article>`)}
  </section>`;
}

function LiveChart({ run, name }) {
  const canvas = useRef(null);
  const chart = useRef(null);
  const points = run.samples.map((s) => ({ t: s.t, v: (s.values.find((x) => x.name === name) || {}).value }));
  const first = run.samples.length ? run.samples[0].values.find((x) => x.name === name) : null;
  const [ready, setReady] = useState(false);
  useEffect(() => {
    let gone = false;
    import('../chart.js').then(({ Chart }) => {
      if (gone) return;
      chart.current = new Chart(canvas.current, {
        type: 'line',
        data: { labels: [], datasets: [{ label: name, data: [], borderColor: '#0b5394', pointRadius: 0 }] },
        options: { animation: false, responsive: true, maintainAspectRatio: false, scales: { x: { type: 'category' } } },
      });
      setReady(true);
    });
    return () => { gone = true; if (chart.current) chart.current.destroy(); };
  }, []);
  useEffect(() => {
    if (!chart.current) return;
    chart.current.data.labels = points.map((p) => p.t.toFixed(1));
    chart.current.data.datasets[0].data = points.map((p) => p.v);
    chart.current.update();
  }, [run.samples.length, ready]);
  const last = points.length ? points[points.length - 1].v : null;
  return html`<figure class="live-chart" data-testid="live-chart" data-name=${name} data-points=${points.length}>
    <div class="chart-box"><canvas ref=${canvas} role="img" aria-label=${t('{name} over time', { name: first ? first.label : name })}></canvas></div>
    <figcaption>${first ? first.label : name}: ${last} ${first ? first.unit : ''}${first ? ` (${t('limits')} ${first.min} – ${first.max})` : ''}</figcaption>
  </figure>`;
}

// The control units that offer something of `what` (identifiers or routines), the one with a fault first.
function offering(job, what) {
  const ecus = (job.before || []).filter((e) => (e[what] || []).length);
  return [...ecus.filter((e) => (e.dtcs || []).length), ...ecus.filter((e) => !(e.dtcs || []).length)];
}

function LiveData({ job, onRun, error }) {
  const ecus = offering(job, 'identifiers');
  const [address, setAddress] = useState(ecus.length ? ecus[0].address : '');
  const ecu = ecus.find((e) => e.address === address) || ecus[0];
  const submit = (event) => {
    event.preventDefault();
    const form = event.target;
    const identifiers = [...form.querySelectorAll('input[name=identifier]:checked')].map((x) => x.value);
    onRun({ kind: 'live_data', ecu_address: ecu.address, identifiers, rate: Number(form.rate.value),
      seconds: Number(form.seconds.value) });
  };
  if (!ecu) return html`<p>${t('Run a quick test first: it tells what each control unit offers.')}</p>`;
  return html`<form onSubmit=${submit} novalidate aria-label=${t('Live data')}>
    <${Field} label=${t('Control unit')} name="ecu_address" as="select" error=${error} onChange=${(e) => setAddress(e.target.value)}>
      ${ecus.map((e) => html`<option value=${e.address} selected=${e.address === ecu.address}>${e.address} ${e.name}</option>`)}</${Field}>
    <fieldset><legend>${t('Values')}</legend>
      ${ecu.identifiers.map((d, i) => html`<label class="check" key=${ecu.address + d.name}><input type="checkbox" name="identifier" value=${d.name}
        checked=${DEFAULT_LIVE.includes(d.name) || (i === 0 && !ecu.identifiers.some((x) => DEFAULT_LIVE.includes(x.name)))} /> ${d.label}</label>`)}</fieldset>
    <${Field} label=${t('Samples a second')} name="rate" type="number" min="0.2" max="20" step="0.2" value="5" error=${error} />
    <${Field} label=${t('Seconds')} name="seconds" type="number" min="1" max="300" value="10" error=${error} />
    <button type="submit">${t('Read live data')}</button>
  </form>`;
}

function Routine({ job, onRun, error }) {
  const ecus = offering(job, 'routines');
  const [address, setAddress] = useState('');
  const ecu = ecus.find((e) => e.address === address) || ecus[0];
  if (!ecu) return null;
  const submit = (event) => {
    event.preventDefault();
    onRun({ kind: 'routine', ecu_address: ecu.address, routine: event.target.routine.value });
  };
  return html`<form onSubmit=${submit} novalidate class="inline-form" aria-label=${t('Actuator test')}>
    <${Field} label=${t('Control unit for the test')} name="routine_ecu" as="select" error=${error}
      onChange=${(e) => setAddress(e.target.value)}>
      ${ecus.map((e) => html`<option value=${e.address} selected=${e.address === ecu.address}>${e.address} ${e.name}</option>`)}</${Field}>
    <${Field} label=${t('Test')} name="routine" as="select" error=${error}>
      ${ecu.routines.map((r) => html`<option value=${r.name}>${r.label}</option>`)}</${Field}>
    <button type="submit">${t('Run the test')}</button>
  </form>`;
}

function TestPlan({ job, finding, onRun, busy }) {
  if (!finding.checks.length) return null;
  const read = () => onRun({ kind: 'live_data', ecu_address: finding.ecu_address, identifiers: finding.checks.map((c) => c.name),
    rate: 5, seconds: 10 });
  return html`<${Readings} caption=${t('Test plan: live data to check')} readings=${finding.checks} testid="test-plan" />
    ${job.state === 'open' && html`<p><button type="button" disabled=${busy} onClick=${read}>${t('Read the test plan\'s values')}</button></p>`}`;
}

function Findings({ job, onChoose, onRun, busy }) {
  const chosen = new Set(job.operations.map((o) => o.document_id));
  const submit = (event) => {
    event.preventDefault();
    onChoose([...event.target.querySelectorAll('input[name=operation]:checked')].map((x) => x.value));
  };
  if (!job.findings.length) return null;
  return html`<section aria-labelledby="findings"><h2 id="findings">${t('Documents for the fault codes')}</h2>
    <form onSubmit=${submit} novalidate>
    ${job.findings.map((f) => html`<article class="card" data-testid="finding" data-code=${f.code}>
      <h3>${f.code} ${f.text}</h3>
      ${f.document && html`<p><a href=${`#/document/${f.document.id}?vin=${job.vin}`}>${f.document.title}</a></p>`}
      ${!f.access && html`<${Offer} tariffs=${f.offer} vin=${job.vin} />`}
      <${TestPlan} job=${job} finding=${f} onRun=${onRun} busy=${busy} />
      <fieldset><legend>${t('Repair instructions for this car, best first')}</legend>
        ${f.repairs.map((r) => html`<label class="check"><input type="checkbox" name="operation" value=${r.id}
          checked=${chosen.has(r.id)} disabled=${job.state !== 'open'} /> <a href=${`#/document/${r.id}?vin=${job.vin}`}>${r.title}</a></label>`)}
      </fieldset>
    </article>`)}
    ${job.state === 'open' && html`<button type="submit">${t('Use the operations picked')}</button>`}
    </form>
  </section>`;
}

// The job's parts: what its operations brought and what was put on it from the catalogue, priced; quantities
// edited or a line taken off; the list sent to a dealer as a parts request (and its CSV for the dealer's system).
function JobParts({ job, onChanged }) {
  const { error, run } = useAction();
  const [sent, setSent] = useState(null);
  if (!job.parts.length) return html`<p>${t('No parts on the job yet: operations bring theirs, the parts catalogue adds more.')}
    <a href=${`#/parts?vin=${job.vin}`}>${t('Parts catalogue')}</a></p>`;
  const save = async (event) => {
    event.preventDefault();
    const lines = job.parts.map((p, i) => ({ number: p.number, quantity: Number(event.target[`quantity-${i}`].value) }))
      .filter((line) => line.quantity > 0);
    if (await run(() => api('PUT', `/jobs/${job.id}/parts`, { body: { lines } }))) onChanged();
  };
  const request = async () => {
    const lines = job.parts.map((p) => ({ number: p.number, quantity: p.quantity }));
    const made = await run(() => api('POST', '/parts/requests', { body: { vin: job.vin, job_id: job.id, lines } }));
    if (made) setSent(made);
  };
  const csv = async () => {
    const answer = await run(() => api('GET', `/parts/requests/${sent.id}`, { headers: { Accept: 'text/csv' }, raw: true }));
    if (answer) download(`aos-parts-request-${sent.id}.csv`, await answer.blob());
  };
  const open = job.state === 'open';
  return html`<form onSubmit=${save} novalidate aria-label=${t('Parts')}>
    <table class="list" data-testid="job-parts"><caption>${t('Parts')}</caption>
      <thead><tr><th scope="col">${t('Part number')}</th><th scope="col">${t('Part')}</th><th scope="col">${t('Qty')}</th>
        <th scope="col">${t('Net')}</th></tr></thead>
      <tbody>${job.parts.map((p, i) => html`<tr data-number=${p.number}>
        <td>${p.written || p.number}${p.asked && html`<br /><small>${t('replaces {old}', { old: p.asked })}</small>`}</td>
        <td>${p.name || t('not priced: parts access needed')}</td>
        <td>${open ? html`<input type="number" name=${`quantity-${i}`} min="0" max="999" value=${p.quantity}
          aria-label=${t('Quantity of {part}', { part: p.written || p.number })} />` : p.quantity}</td>
        <td>${p.net_cents != null ? money(p.net_cents) : '–'}</td></tr>`)}</tbody></table>
    ${open && html`<p class="actions"><button type="submit">${t('Save quantities')}</button>
      <button type="button" onClick=${request}>${t('Send the parts list to a dealer')}</button></p>`}
    ${sent && html`<${Notice} kind="success"><p role="status" data-testid="parts-request">${t('Parts request sent: {n} lines, {net} net.', {
      n: sent.lines.length, net: money(sent.net_cents) })} <button type="button" class="link" onClick=${csv}>${t('CSV for the dealer')}</button></p></${Notice}>`}
    <${ErrorBanner} error=${error} />
    ${error && error.status === 402 && html`<${Offer} tariffs=${error.details.tariffs} message=${error.message} vin=${job.vin} />`}
  </form>`;
}

function Estimate({ job, onChanged }) {
  const e = job.estimate;
  return html`<section aria-labelledby="estimate"><h2 id="estimate">${t('Operations and estimate')}</h2>
    ${job.operations.length === 0 ? html`<p>${t('No operation picked yet.')}</p>` : html`<table class="list" data-testid="operations">
      <thead><tr><th scope="col">${t('Operation')}</th><th scope="col">${t('Labour time')}</th></tr></thead>
      <tbody>${job.operations.map((o) => html`<tr><td>${o.title}</td><td>${t('{h} h', { h: o.hours })}</td></tr>`)}</tbody></table>`}
    <${JobParts} job=${job} onChanged=${onChanged} />
    <dl class="facts" data-testid="estimate">
      <div><dt>${t('Labour')}</dt><dd data-testid="labour">${t('{h} h', { h: e.hours })} × ${money(e.labour_rate_cents)} = ${money(e.labour_net_cents)}</dd></div>
      <div><dt>${t('Parts')}</dt><dd data-testid="parts-net">${money(e.parts_net_cents)}${e.parts_unpriced ? ' · ' + t('{n} not priced', { n: e.parts_unpriced }) : ''}</dd></div>
      <div><dt>${t('Net')}</dt><dd data-testid="net">${money(e.net_cents)}</dd></div>
      <div><dt>${t('VAT {rate} %', { rate: e.vat_rate })}</dt><dd>${money(e.vat_cents)}</dd></div>
      <div><dt>${t('Total')}</dt><dd data-testid="gross">${money(e.gross_cents)}</dd></div>
    </dl>
  </section>`;
}

const GOING = ['queued', 'running'];

// The run going on, followed on its own while the agent works (the job with its AIR links is read again once).
function useRunning(job) {
  const data = job.data;
  const going = data && data.runs.find((r) => GOING.includes(r.state));
  const [now, setNow] = useState(null);
  useEffect(() => { setNow(going || null); }, [going && going.id]);
  useEffect(() => {
    if (!now) return undefined;
    if (!GOING.includes(now.state)) { job.reload(); return undefined; }
    const timer = setTimeout(async () => setNow(await api('GET', `/jobs/${data.id}/runs/${now.id}`)), 500);
    return () => clearTimeout(timer);
  }, [now]);
  return now;
}

export function Job({ id }) {
  const job = useApi(`/jobs/${id}`);
  const { error, run } = useAction();
  const [report, setReport] = useState(null);
  const data = job.data;
  const going = useRunning(job);
  const busy = Boolean(going && GOING.includes(going.state));
  const start = async (body) => { if (await run(() => api('POST', `/jobs/${id}/runs`, { body }))) job.reload(); };
  const choose = async (ids) => { if (await run(() => api('PUT', `/jobs/${id}/operations`, { body: { document_ids: ids } }))) job.reload(); };
  const close = async () => { if (await run(() => api('POST', `/jobs/${id}/close`, { body: {} }))) job.reload(); };
  const openReport = async () => { const link = await run(() => api('GET', `/jobs/${id}/report`)); if (link) setReport(link.url); };
  if (!data) return html`<${Page} title=${t('Job')}><${ErrorBanner} error=${job.error} /></${Page}>`;
  const runs = data.runs.map((r) => (going && r.id === going.id ? going : r));
  const live = [...runs].reverse().find((r) => r.kind === 'live_data');
  const last = runs.length ? runs[runs.length - 1] : null;
  const tests = runs.filter((r) => r.kind === 'routine' && r.result);
  return html`<${Page} title=${t('Job {vin}', { vin: data.vin })} wide>
    <dl class="facts">
      <div><dt>${t('Complaint')}</dt><dd>${data.complaint}</dd></div>
      <div><dt>${t('Odometer (km)')}</dt><dd>${data.odometer_km}</dd></div>
      <div><dt>${t('State')}</dt><dd data-testid="job-state">${t(data.state === 'open' ? 'open' : 'closed')}</dd></div>
      <div><dt>${t('Paid by')}</dt><dd>${data.vin_pass ? t('VIN pass') : t('{s} s of diagnosis time left', { s: data.diagnosis_seconds_left })}</dd></div>
      <div><dt>${t('Coding and replacements')}</dt><dd>${data.vin_pass ? t('VIN pass') : t('{s} s of programming time left', { s: data.programming_seconds_left })}</dd></div>
    </dl>
    ${last && html`<p role="status" data-testid="run-state" data-kind=${last.kind} data-state=${last.state}>
      ${t('{run}: {state}', { run: t(RUNS[last.kind]), state: t(RUN_STATES[last.state]) })}${last.detail ? ' (' + last.detail + ')' : ''}
      ${last.seconds !== null ? ' · ' + t('{s} s on the clock', { s: Math.round(last.seconds) }) : ''}</p>`}
    <${ErrorBanner} error=${error} />
    ${error && error.status === 402 && html`<${Offer} tariffs=${error.details.tariffs} message=${error.message} vin=${data.vin} />`}
    ${data.state === 'open' && html`<section aria-labelledby="diagnose"><h2 id="diagnose">${t('Diagnose')}</h2>
      <p class="actions"><button type="button" disabled=${busy} onClick=${() => start({ kind: 'quick_test' })}>${t('Quick test')}</button>
        <button type="button" disabled=${busy || !data.before} onClick=${() => start({ kind: 'clear' })}>${t('Clear fault memory')}</button></p>
      <${LiveData} job=${data} onRun=${start} error=${error} />
      <${Routine} job=${data} onRun=${start} error=${error} />
    </section>`}
    ${data.state === 'open' && html`<${Coding} job=${data} onRun=${start} busy=${busy} />
      <${Replacement} job=${data} onRun=${start} busy=${busy} />`}
    ${tests.length > 0 && html`<ul data-testid="routine-results">${tests.map((r) => html`<li>${r.params.routine}: ${t(r.result.result)}</li>`)}</ul>`}
    ${live && live.samples.length > 0 && html`<section aria-labelledby="live"><h2 id="live">${t('Live data')}</h2>
      <div class="charts">${live.params.identifiers.map((name) => html`<${LiveChart} key=${live.id + name} run=${live} name=${name} />`)}</div>
      <${Readings} caption=${t('Last sample')} readings=${live.samples[live.samples.length - 1].values} testid="live-values" />
    </section>`}
    <${FaultMemory} ecus=${data.before} title=${t('Fault memory as found')} testid="before" />
    <${FaultMemory} ecus=${data.after} title=${t('Fault memory after the repair')} testid="after" />
    <${Findings} job=${data} onChoose=${choose} onRun=${start} busy=${busy} />
    <${Estimate} job=${data} onChanged=${job.reload} />
    ${data.state === 'open' ? html`<p><button type="button" onClick=${close} disabled=${busy || !(data.before || data.coding || Object.keys(data.replacements).length)}>${t('Close the job')}</button></p>`
      : html`<${Notice} kind="success"><p>${t('Closed: the service record is written.')}</p></${Notice}>
        <p><button type="button" onClick=${openReport}>${t('Job report (PDF)')}</button>
        ${report && html` <a href=${report} data-testid="report-link" target="_blank" rel="noopener">${t('Open the report')}</a>`}</p>`}
  </${Page}>`;
}
