// The parts catalogue: the VIN bar, search by name or number, the car's main groups and subgroups, the exploded
// view with hotspots that light up their rows (and rows that light up their hotspot), pan and zoom, the parts
// table with supersession and kits, a part by number, and "add to job". Without parts access: the structure
// and the names, and what to buy to see numbers and prices.
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import Panzoom from '@panzoom/panzoom';
import { api, useApi } from '../api.js';
import { money, number, t, useLanguage } from '../i18n.js';
import { ErrorBanner, Field, Loading, Notice, Offer, Page, useAction, useFollowing } from '../ui.js';
import { VinBar, currentVin } from './air.js';

function go(path, params) {
  const query = new URLSearchParams();
  Object.entries(params).forEach(([key, value]) => { if (value) query.set(key, value); });
  location.hash = `${path}?${query.toString()}`;
}

function withCar(vin, language, extra = {}) {
  return new URLSearchParams(Object.entries({ vin, language, ...extra }).filter(([, v]) => v)).toString();
}

function CarNote({ found }) {
  if (found.narrowed && found.car) {
    const c = found.car;
    return html`<p class="meta" data-testid="narrowed">${t('Only what fits this car: {series} {model}, engine {engine}, built {built}, options {options}', {
      series: c.series, model: c.model_code, engine: c.engine_code, built: c.production_date, options: c.options.join(' ') || '–' })}</p>`;
  }
  return found.message ? html`<${Notice} kind="warning"><p data-testid="not-narrowed">${found.message}</p></${Notice}>` : null;
}

export function Parts({ query }) {
  const language = useLanguage();
  const vin = currentVin(query);
  const series = query.get('series') || '';
  const q = query.get('q') || '';
  const [typed, setTyped] = useFollowing(q);
  const tree = useApi(`/parts/catalogue?${withCar(vin, language, { series: vin ? '' : series })}`);
  const found = useApi(q ? `/parts/search?${withCar(vin, language, { q })}` : null);
  const data = tree.data;
  const submit = (event) => { event.preventDefault(); go('#/parts', { vin, series, q: typed.trim() }); };
  return html`<${Page} title=${t('Parts catalogue')} wide>
    <${VinBar} vin=${vin} onVin=${(next) => go('#/parts', { vin: next, series })} />
    <form role="search" class="search" onSubmit=${submit} novalidate>
      <${Field} label=${t('Find a part: its name or number')} name="q" type="search" value=${typed}
        onInput=${(e) => setTyped(e.target.value)} autocomplete="off" error=${found.error} />
      <button class="primary" type="submit">${t('Search')}</button>
    </form>
    <${ErrorBanner} error=${tree.error || found.error} />
    ${found.data && html`<${Hits} found=${found.data} vin=${vin} />`}
    ${found.error && found.error.status === 402 && html`<${Offer} tariffs=${found.error.details.tariffs} vin=${vin} message=${found.error.message} />`}
    ${tree.loading && html`<${Loading} />`}
    ${data && html`
      ${!vin && html`<nav aria-label=${t('Series')} class="series-list"><h2>${t('Choose a series, or type a VIN')}</h2><ul class="actions">
        ${data.series_list.map((s) => html`<li><a href=${`#/parts?series=${s.code}`} aria-current=${s.code === series ? 'page' : undefined}>${s.code} ${s.name}</a></li>`)}
      </ul></nav>`}
      ${data.series && html`<p class="meta">${data.catalogue} · ${t('series')} ${data.series}</p><${CarNote} found=${data} />`}
      ${data.offer && html`<${Offer} tariffs=${data.offer.tariffs} vin=${vin}
        message=${t('You see groups, drawings and names. Part numbers and prices come with parts access or a pass for this vehicle.')} />`}
      <div class="parts-groups">${data.groups.map((g) => html`<details class="card" open=${g.id === '12'}>
        <summary><h2>${g.id} ${g.name}</h2></summary>
        ${g.subgroups.map((sub) => html`<section aria-label=${sub.name}><h3>${sub.id.replace('_', ' ')} ${sub.name}</h3><ul>
          ${sub.illustrations.map((i) => html`<li><a href=${`#/parts/illustration/${encodeURIComponent(i.id)}?${withCar(vin)}`}>${i.title}</a>
            <span class="count">${t('{n} rows', { n: i.rows })}</span></li>`)}</ul></section>`)}
      </details>`)}</div>`}
  </${Page}>`;
}

function Hits({ found, vin }) {
  return html`<section aria-labelledby="part-hits"><h2 id="part-hits">${t('{n} parts found', { n: number(found.total) })}</h2>
    ${!found.access && found.offer && html`<${Offer} tariffs=${found.offer.tariffs} vin=${vin} message=${found.offer.message} />`}
    <ol class="hits">${found.hits.map((h) => html`<li class="hit">
      <h3>${h.number ? html`<a href=${`#/parts/part/${h.number}?${withCar(vin)}`}>${h.written}</a>` : ''} ${h.name}</h3>
      ${h.asked && html`<p>${t('{asked} leads to this number', { asked: h.asked })}</p>`}
      ${h.illustration && html`<p><a href=${`#/parts/illustration/${encodeURIComponent(h.illustration)}?${withCar(vin, '', { callout: h.callout })}`}>
        ${h.title}, ${t('callout {n}', { n: h.callout })}</a></p>`}
    </li>`)}</ol>
  </section>`;
}

// The drawing in a frame that pans and zooms; each callout's hotspot a button over it, in the drawing's own
// coordinates (as percentages, so they stay on their callout at any size and zoom).
function Drawing({ shown, selected, onSelect }) {
  const frame = useRef(null);
  const [zoom, setZoom] = useState(null);
  useEffect(() => {
    const panzoom = Panzoom(frame.current, { maxScale: 8, minScale: 0.5, step: 0.3, excludeClass: 'hotspot' });
    const parent = frame.current.parentElement;
    parent.addEventListener('wheel', panzoom.zoomWithWheel);
    setZoom(panzoom);
    return () => { parent.removeEventListener('wheel', panzoom.zoomWithWheel); panzoom.destroy(); };
  }, [shown.id]);
  return html`<figure class="diagram exploded">
    <div class="viewport"><div ref=${frame} class="drawing">
      <img src=${shown.image_url} alt=${t('Exploded view: {title}', { title: shown.title })} />
      ${shown.hotspots.map((h) => html`<button type="button" class=${'hotspot' + (selected === h.callout ? ' selected' : '')}
        data-callout=${h.callout} aria-pressed=${selected === h.callout ? 'true' : 'false'}
        aria-label=${t('Callout {n}', { n: h.callout })} onClick=${() => onSelect(h.callout)}
        style=${`left:${(100 * h.x) / shown.width}%;top:${(100 * h.y) / shown.height}%`}>${h.callout}</button>`)}
    </div></div>
    <figcaption>${shown.title}
      <span class="actions" role="group" aria-label=${t('Zoom')}>
        <button type="button" onClick=${() => zoom && zoom.zoomIn()} aria-label=${t('Zoom in')}>+</button>
        <button type="button" onClick=${() => zoom && zoom.zoomOut()} aria-label=${t('Zoom out')}>−</button>
        <button type="button" onClick=${() => zoom && zoom.reset()}>${t('Reset')}</button>
      </span></figcaption>
  </figure>`;
}

function Chain({ row }) {
  if (!row.chain || !row.chain.length) return null;
  return html`<ul class="chain" data-testid="chain">${row.chain.map((step) => html`<li>
    ${t('{old} replaced by {new}', { old: step.old, new: step.new })} <small>(${step.words})</small></li>`)}</ul>`;
}

// The workshop's open jobs for this car, and "put this part on the job" at a quantity.
function AddToJob({ vin, row, jobs, onAdded }) {
  const { error, run } = useAction();
  const open = (jobs || []).filter((j) => j.state === 'open' && j.vin === vin);
  if (!open.length || !row.current) return null;
  const submit = async (event) => {
    event.preventDefault();
    const form = event.target;
    const done = await run(() => api('POST', `/jobs/${form.job.value}/parts`, {
      body: { number: row.number, quantity: Number(form.quantity.value) } })); // as printed: it leads to the current
    if (done) onAdded(done);
  };
  return html`<form class="add-to-job" onSubmit=${submit} novalidate aria-label=${t('Add {name} to a job', { name: row.name })}>
    <${Field} label=${t('Quantity')} name="quantity" type="number" min="1" max="999" value=${row.quantity} error=${error} scope=${'q' + row.callout} />
    <${Field} label=${t('Job')} name="job" as="select" error=${error} scope=${'j' + row.callout}>
      ${open.map((j) => html`<option value=${j.id}>${j.complaint}</option>`)}</${Field}>
    <button type="submit">${t('Add to job')}</button>
    <${ErrorBanner} error=${error} />
  </form>`;
}

export function PartsIllustration({ id, query }) {
  const language = useLanguage();
  const vin = currentVin(query);
  const [explain, setExplain] = useState(false);
  const [selected, setSelected] = useState(Number(query.get('callout')) || null);
  const [added, setAdded] = useState(null);
  const found = useApi(`/parts/illustrations/${encodeURIComponent(id)}?${withCar(vin, language, { explain: explain ? 'true' : '' })}`);
  const jobs = useApi(vin ? '/jobs' : null);
  const shown = found.data;
  const rowRefs = useRef({});
  useEffect(() => {
    const first = selected && rowRefs.current[selected];
    if (first) first.scrollIntoView({ block: 'nearest' });
  }, [selected, shown && shown.id]);
  if (!shown) return html`<${Page} title=${t('Parts catalogue')}><${ErrorBanner} error=${found.error} />${found.loading && html`<${Loading} />`}</${Page}>`;
  const back = `#/parts?${withCar(vin, '', { series: vin ? '' : shown.series })}`;
  return html`<${Page} title=${shown.title} wide>
    <p><a href=${back}>${t('Back to the groups')}</a> · ${shown.series} · ${shown.subgroup.replace('_', ' ')} ${shown.subgroup_name || ''}</p>
    <${CarNote} found=${shown} />
    ${!shown.access && shown.offer && html`<${Offer} tariffs=${shown.offer.tariffs} vin=${vin} message=${shown.offer.message} />`}
    ${added && html`<${Notice} kind="success"><p role="status" data-testid="added">${t('On the job: {n} × {name}. Estimate now {gross}.', {
      n: added.line.quantity, name: added.line.name, gross: money(added.job.estimate.gross_cents) })}
      <a href=${`#/jobs/${added.job.id}`}>${t('Open the job')}</a></p></${Notice}>`}
    <div class="exploded-view">
      <${Drawing} shown=${shown} selected=${selected} onSelect=${setSelected} />
      <div class="rows">
        ${vin && shown.narrowed && html`<label class="check"><input type="checkbox" checked=${explain} onChange=${(e) => setExplain(e.target.checked)} />
          ${t('Also show the rows that do not fit this car, and why')}</label>`}
        <table class="list parts-table" data-testid="parts-rows">
          <caption>${t('Parts of this drawing')}</caption>
          <thead><tr><th scope="col">${t('No.')}</th><th scope="col">${t('Part')}</th><th scope="col">${t('Qty')}</th>
            <th scope="col">${t('Part number')}</th><th scope="col">${t('Price')}</th></tr></thead>
          <tbody>${shown.rows.map((row, index) => html`<tr key=${index} data-callout=${row.callout}
              class=${(selected === row.callout ? 'selected ' : '') + (row.fits ? '' : 'left-out')}
              ref=${(el) => { if (el && !rowRefs.current[row.callout]) rowRefs.current[row.callout] = el; }}>
            <td><button type="button" class="callout-link" aria-pressed=${selected === row.callout ? 'true' : 'false'}
              onClick=${() => setSelected(row.callout)} aria-label=${t('Show callout {n} in the drawing', { n: row.callout })}>${row.callout}</button></td>
            <td>${row.name}${row.note && html`<br /><small>${row.note}</small>`}
              ${!row.fits && html`<br /><small class="why" data-testid="left-out">${t('Left out: {why}', { why: row.left_out_because })}</small>`}
              ${row.kit && html`<br /><small>${t('Sold only in the kit {kit}', { kit: `${row.kit.written} ${row.kit.name || ''}` })}</small>`}</td>
            <td>${row.quantity}</td>
            <td>${row.written ? html`<a href=${`#/parts/part/${row.current}?${withCar(vin)}`} data-testid="current-number">${row.written}</a>
              <${Chain} row=${row} />` : '–'}</td>
            <td>${row.price ? money(row.price.gross_cents) : '–'}${row.price && html`<br /><small>${t('net {net}', { net: money(row.price.net_cents) })}</small>`}
              ${row.fits && vin && html`<${AddToJob} vin=${vin} row=${row} jobs=${jobs.data && jobs.data.jobs}
                onAdded=${(job) => setAdded({ job, line: { ...row, quantity: (job.parts.find((p) => p.number === row.current) || {}).quantity } })} />`}</td>
          </tr>`)}</tbody>
        </table>
      </div>
    </div>
  </${Page}>`;
}

export function PartView({ partNumber, query }) {
  const language = useLanguage();
  const vin = currentVin(query);
  const found = useApi(`/parts/parts/${encodeURIComponent(partNumber)}?${withCar(vin, language)}`);
  const part = found.data;
  if (!part) {
    const error = found.error;
    return html`<${Page} title=${t('Part {number}', { number: partNumber })}>
      <${ErrorBanner} error=${error} />
      ${error && error.details && error.details.near && error.details.near.length > 0 && html`<p>${t('Did you mean')}
        ${error.details.near.map((n) => html` <a href=${`#/parts/part/${n.replace(/ /g, '')}?${withCar(vin)}`}>${n}</a>`)}</p>`}
      ${error && error.status === 402 && html`<${Offer} tariffs=${error.details.tariffs} vin=${vin} message=${error.message} />`}
      ${found.loading && html`<${Loading} />`}</${Page}>`;
  }
  return html`<${Page} title=${`${part.written} ${part.name}`}>
    <p><a href=${`#/parts?${withCar(vin)}`}>${t('Back to the groups')}</a></p>
    ${part.asked !== part.written && html`<p data-testid="led-to">${t('{asked} leads to this number', { asked: part.asked })}</p>`}
    <${Chain} row=${part} />
    <dl class="facts">
      <div><dt>${t('Price')}</dt><dd>${part.price ? money(part.price.gross_cents) : '–'}</dd></div>
      <div><dt>${t('Weight')}</dt><dd>${part.weight_g ? `${number(part.weight_g)} g` : '–'}</dd></div>
      ${vin && html`<div><dt>${t('Fits {vin}', { vin })}</dt><dd>${part.fits ? t('yes') : t('no')}</dd></div>`}
    </dl>
    ${part.kit && html`<p>${t('Sold only in the kit {kit}', { kit: `${part.kit.written} ${part.kit.name || ''}` })}</p>`}
    ${part.contents.length > 0 && html`<table class="list"><caption>${t('The kit holds')}</caption><tbody>
      ${part.contents.map((c) => html`<tr><td>${c.quantity} ×</td><td>${c.written}</td><td>${c.name}</td></tr>`)}</tbody></table>`}
    <h2>${t('Used in')}</h2>
    <ul>${part.used_in.map((u) => html`<li><a href=${`#/parts/illustration/${encodeURIComponent(u.illustration)}?${withCar(vin, '', { callout: u.callout })}`}>
      ${u.title}</a> (${u.illustration}, ${t('callout {n}', { n: u.callout })})${u.fits === false ? ' · ' + t('not for this car') : ''}</li>`)}</ul>
  </${Page}>`;
}
