// Coding and replacing a control unit, on the job: the coding each unit holds against what the car's order says
// (read, the differences in words, written and read back), and the replacement wizard (back up the old unit, fit the
// new one, restore it, and for a theft-relevant unit the pairing a SERMI-authorised technician does).
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { N_, t } from '../i18n.js';
import { Notice } from '../ui.js';

const shown = (value) => (value === null || value === undefined ? '–' : String(value));

export function Coding({ job, onRun, busy }) {
  const c = job.coding;
  const last = c && c.written.length ? c.written[c.written.length - 1] : null;
  return html`<section aria-labelledby="coding"><h2 id="coding">${t('Coding')}</h2>
    <p>${t('What each control unit is told about the car, against what its order says: its options, as built and as retrofitted, and the market it was built for.')}</p>
    <p class="actions"><button type="button" disabled=${busy} onClick=${() => onRun({ kind: 'read_coding' })}>${t('Read the coding')}</button>
      ${c && c.state === 'read' && c.differences.length > 0 && html`<button type="button" disabled=${busy}
        data-testid="write-coding" onClick=${() => onRun({ kind: 'write_coding' })}>${t('Write the {n} changes', { n: c.differences.length })}</button>`}</p>
    ${c && c.state === 'unverified' && html`<${Notice} kind="warning"><p data-testid="coding-unverified">${t('The last write did not end with a read-back: read the coding again. What the units hold is never assumed.')}</p></${Notice}>`}
    ${c && c.state === 'read' && c.differences.length === 0 && html`<${Notice} kind="success"><p data-testid="coding-matches">${t('The coding matches the car\'s order (version {version}): nothing to write.', { version: c.order_version })}</p></${Notice}>`}
    ${c && c.differences.length > 0 && html`<table class="list" data-testid="coding-differences">
      <caption>${t('What differs from the order (version {version})', { version: c.order_version })}</caption>
      <thead><tr><th scope="col">${t('Unit')}</th><th scope="col">${t('Parameter')}</th><th scope="col">${t('Now')}</th><th scope="col">${t('The order says')}</th></tr></thead>
      <tbody>${c.differences.map((d) => html`<tr data-testid="coding-difference"><td>${d.ecu}</td><td>${d.label}</td><td>${shown(d.from)}</td><td>${shown(d.to)}</td></tr>`)}</tbody>
    </table>`}
    ${last && html`<table class="list" data-testid="coding-written">
      <caption>${t('Written and read back')}</caption>
      <thead><tr><th scope="col">${t('Unit')}</th><th scope="col">${t('Parameter')}</th><th scope="col">${t('Was')}</th><th scope="col">${t('Now')}</th><th scope="col">${t('Read back')}</th></tr></thead>
      <tbody>${last.changes.map((d) => html`<tr data-testid="coding-change" data-verified=${String(d.verified)}><td>${d.ecu}</td><td>${d.label}</td>
        <td>${shown(d.from)}</td><td>${shown(d.to)}</td><td>${d.verified ? t('verified') : t('not verified')}</td></tr>`)}</tbody>
    </table>`}
  </section>`;
}

const STEPS = { backed_up: N_('backed up'), restored: N_('restored'), needs_pairing: N_('restored; to be paired'),
  restore_incomplete: N_('restore incomplete') };

export function Replacement({ job, onRun, busy }) {
  const [address, setAddress] = useState(job.ecus.length ? job.ecus[0].address : '');
  const r = (job.replacements || {})[address];
  const done = Object.entries(job.replacements || {}).filter(([, entry]) => entry.restored).sort();
  return html`<section aria-labelledby="replace"><h2 id="replace">${t('Replace a control unit')}</h2>
    <p><label for="replace-unit">${t('Unit')}</label>
      <select id="replace-unit" value=${address} onChange=${(e) => setAddress(e.target.value)}>
        ${job.ecus.map((e) => html`<option value=${e.address}>${e.address} ${e.name}</option>`)}</select></p>
    <ol class="steps">
      <li>${t('Back up the old unit: who it is, its coding and the values the new one takes over.')}
        <button type="button" disabled=${busy} onClick=${() => onRun({ kind: 'backup_ecu', ecu_address: address })}>${t('Back up')}</button>
        ${r && r.backup && html`<span data-testid="backup"> ${t('Backed up: serial {serial}', { serial: r.backup.serial_number })}</span>`}</li>
      <li>${t('Fit the new unit. If the old one is dead, there is no backup: the coding then comes from the car\'s order.')}</li>
      <li>${t('Restore the new unit: the car\'s VIN, the coding and the values taken over, then read back.')}
        <button type="button" disabled=${busy} onClick=${() => onRun({ kind: 'restore_ecu', ecu_address: address })}>${t('Restore')}</button></li>
      <li>${t('A theft-relevant unit (engine control, immobiliser, steering lock) is then paired with the car by a SERMI-authorised technician.')}
        ${' '}<a href="#/security">${t('Security-related work')}</a></li>
    </ol>
    ${r && r.state === 'needs_pairing' && html`<${Notice} kind="warning"><p>${t('This unit works for the car only once it is paired: open a security job for the car and pair it.')}</p></${Notice}>`}
    ${done.length > 0 && html`<div role="status"><ul aria-label=${t('Units replaced')}>${done.map(([at, entry]) => html`<li
      data-testid="replacement" data-address=${at} data-state=${entry.state}>
      ${t('{address}: {state}. New unit serial {serial}; coding from the {source}.', { address: at, state: t(STEPS[entry.state]), serial: entry.restored.serial_number, source: entry.coding_from === 'backup' ? t('backup') : t('order (no backup)') })}
      ${entry.problems && entry.problems.length ? ' ' + entry.problems.join('; ') : ''}</li>`)}</ul></div>`}
  </section>`;
}
