// Technical information: the VIN bar, search with suggestions, facets, highlighted hits, the navigation tree,
// the document view and the wiring-diagram viewer. Without access: titles, and what to buy to read them.
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import Panzoom from '@panzoom/panzoom';
import { api, useApi } from '../api.js';
import { N_, date, number, t } from '../i18n.js';
import { ErrorBanner, Field, Loading, Offer, Page, useFollowing } from '../ui.js';

const VIN_KEY = 'aos.vin';

function go(params) {
  const query = new URLSearchParams();
  Object.entries(params).forEach(([key, value]) => { if (value) query.set(key, value); });
  location.hash = '#/air?' + query.toString();
}

// The car on the lift: its VIN, decoded, kept while the user moves between screens.
export function VinBar({ vin, onVin }) {
  const vehicle = useApi(vin ? `/vehicles/${encodeURIComponent(vin)}` : null);
  const [typed, setTyped] = useFollowing(vin || '');
  const submit = (event) => {
    event.preventDefault();
    const next = typed.trim().toUpperCase();
    if (next) sessionStorage.setItem(VIN_KEY, next); else sessionStorage.removeItem(VIN_KEY);
    onVin(next);
  };
  const data = vehicle.data;
  return html`<section class="vin-bar" aria-label=${t('Vehicle')}>
    <form onSubmit=${submit} class="inline-form" novalidate>
      <${Field} label=${t('VIN')} name="vin" value=${typed} onInput=${(e) => setTyped(e.target.value)} maxlength="17"
        autocomplete="off" spellcheck="false" error=${vehicle.error} hint=${t('17 characters; results then apply to this car only')} />
      <button type="submit">${t('Use this vehicle')}</button>
      ${vin && html`<button type="button" class="link" onClick=${() => { sessionStorage.removeItem(VIN_KEY); onVin(''); }}>${t('Clear')}</button>`}
    </form>
    <${ErrorBanner} error=${vehicle.error} />
    ${data && html`<p class="vehicle" data-testid="vehicle">
      <strong>${data.decoded.manufacturer} ${data.build ? data.build.series : ''}</strong>
      ${data.build ? html` · ${t('engine')} ${data.build.engine_code} · ${t('built')} ${date(data.build.production_date)}` : html` · ${t('model year')} ${data.decoded.model_year}`}
      ${' · '}<a href=${'#/vehicle/' + data.decoded.vin}>${t('Vehicle data')}</a></p>`}
  </section>`;
}

export function currentVin(query) { return query.get('vin') || sessionStorage.getItem(VIN_KEY) || ''; }

function Suggestions({ q, vin }) {
  const [items, setItems] = useState([]);
  useEffect(() => {
    if (!q || q.trim().length < 2) { setItems([]); return undefined; }
    const timer = setTimeout(() => {
      api('GET', `/air/suggest?q=${encodeURIComponent(q)}${vin ? '&vin=' + vin : ''}`)
        .then((answer) => setItems(answer.suggestions), () => setItems([]));
    }, 150);
    return () => clearTimeout(timer);
  }, [q, vin]);
  return html`<datalist id="suggestions">${items.map((s) => html`<option value=${s.title} />`)}</datalist>`;
}

function Facets({ facets, params }) {
  const group = (name, title, items) => html`<div class="facet"><h3>${title}</h3><ul>
    ${items.map((f) => {
      const active = params[name] === f.value;
      return html`<li><a href="#" aria-current=${active ? 'true' : undefined}
        onClick=${(e) => { e.preventDefault(); go({ ...params, [name]: active ? '' : f.value, page: '' }); }}>
        ${f.label} <span class="count">${number(f.count)}</span></a></li>`;
    })}</ul></div>`;
  return html`<aside class="facets" aria-label=${t('Filters')}>
    ${group('type', t('Document type'), facets.type)}
    ${group('system', t('Main group'), facets.system)}
  </aside>`;
}

function Navigation({ vin, params }) {
  const tree = useApi(`/air/navigation${vin ? '?vin=' + vin : ''}`);
  if (!tree.data) return html`<${ErrorBanner} error=${tree.error} />`;
  return html`<nav class="tree" aria-label=${t('Navigation by main group')}>
    <h2>${t('Main groups')}</h2>
    <ul>${tree.data.by_system.map((node) => html`<li><details open=${params.system === node.system}>
      <summary>${node.system} ${node.label} <span class="count">${number(node.count)}</span></summary>
      <ul>${node.types.map((leaf) => html`<li><a href=${`#/air?system=${node.system}&type=${leaf.type}${vin ? '&vin=' + vin : ''}`}
        aria-current=${params.system === node.system && params.type === leaf.type ? 'page' : undefined}>
        ${leaf.label} <span class="count">${number(leaf.count)}</span></a></li>`)}</ul>
    </details></li>`)}</ul>
  </nav>`;
}

function Hit({ hit, vin, access }) {
  const href = `#/document/${encodeURIComponent(hit.id)}${vin ? '?vin=' + vin : ''}`;
  return html`<li class="hit">
    <p class="type">${t(hit.type_label || TYPE_LABELS[hit.type] || hit.type)}</p>
    <h3><a href=${href} dangerouslySetInnerHTML=${{ __html: access && hit.title_html ? hit.title_html : escape(hit.title) }}></a></h3>
    ${access && hit.snippet && html`<p class="snippet" dangerouslySetInnerHTML=${{ __html: hit.snippet }}></p>`}
  </li>`;
}

const TYPE_LABELS = { fault_code: N_('Fault code description'), repair_instruction: N_('Repair instruction'), wiring_diagram: N_('Wiring diagram'),
  service_bulletin: N_('Technical service bulletin'), technical_data: N_('Technical data'), maintenance_instruction: N_('Maintenance instruction'),
  component_location: N_('Component location'), special_tool: N_('Special tool information'), labour_time: N_('Labour time') };

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

export function Air({ query }) {
  const vin = currentVin(query);
  const params = { q: query.get('q') || '', vin, type: query.get('type') || '', system: query.get('system') || '', page: query.get('page') || '' };
  const [typed, setTyped] = useFollowing(params.q);
  const searching = params.q || params.type || params.system;
  const path = searching ? '/air/search?' + new URLSearchParams(Object.entries(params).filter(([, v]) => v)).toString() : null;
  const results = useApi(path);
  const found = results.data;
  const submit = (event) => { event.preventDefault(); go({ ...params, q: typed.trim(), page: '' }); };
  return html`<${Page} title=${t('Technical information')} wide>
    <${VinBar} vin=${vin} onVin=${(next) => go({ ...params, vin: next, page: '' })} />
    <form role="search" class="search" onSubmit=${submit} novalidate>
      <${Field} label=${t('Search: words, fault codes, "phrases"')} name="q" type="search" value=${typed} list="suggestions"
        onInput=${(e) => setTyped(e.target.value)} autocomplete="off" error=${results.error} />
      <${Suggestions} q=${typed} vin=${vin} />
      <button class="primary" type="submit">${t('Search')}</button>
    </form>
    <div class="air">
      <${Navigation} vin=${vin} params=${params} />
      <div class="results">
        <${ErrorBanner} error=${results.error} />
        ${results.loading && html`<${Loading} />`}
        ${found && html`
          <p role="status" class="total">${t('{n} results', { n: number(found.total) })}${found.vehicle ? ' ' + t('for {vin}', { vin: found.vehicle.vin }) : ''}</p>
          ${!found.access && html`<${Offer} tariffs=${found.offer} vin=${vin}
            message=${t('You see the titles. To read the documents, buy access to technical information or a pass for this vehicle.')} />`}
          <div class="found">
            <ol class="hits">${found.hits.map((hit) => html`<${Hit} hit=${hit} vin=${vin} access=${found.access} />`)}</ol>
            ${found.facets && html`<${Facets} facets=${found.facets} params=${params} />`}
          </div>
          ${found.pages > 1 && html`<nav class="pager" aria-label=${t('Pages')}>
            <button type="button" disabled=${found.page <= 1} onClick=${() => go({ ...params, page: found.page - 1 })}>${t('Previous')}</button>
            <span>${t('Page {page} of {pages}', { page: found.page, pages: found.pages })}</span>
            <button type="button" disabled=${found.page >= found.pages} onClick=${() => go({ ...params, page: found.page + 1 })}>${t('Next')}</button>
          </nav>`}`}
        ${!searching && html`<p>${t('Search by words or a fault code, or open a main group on the left.')}</p>`}
      </div>
    </div>
  </${Page}>`;
}

// An SVG (a wiring diagram) in a frame that pans by dragging and zooms with the wheel or the buttons.
function DiagramViewer({ binary }) {
  const frame = useRef(null);
  const [zoom, setZoom] = useState(null);
  useEffect(() => {
    const panzoom = Panzoom(frame.current, { maxScale: 8, minScale: 0.5, step: 0.3 });
    const parent = frame.current.parentElement;
    parent.addEventListener('wheel', panzoom.zoomWithWheel);
    setZoom(panzoom);
    return () => { parent.removeEventListener('wheel', panzoom.zoomWithWheel); panzoom.destroy(); };
  }, [binary.url]);
  return html`<figure class="diagram">
    <div class="viewport"><div ref=${frame}><img src=${binary.url} alt=${binary.title || binary.name} /></div></div>
    <figcaption>${binary.title || binary.name}
      <span class="actions" role="group" aria-label=${t('Zoom')}>
        <button type="button" onClick=${() => zoom && zoom.zoomIn()} aria-label=${t('Zoom in')}>+</button>
        <button type="button" onClick=${() => zoom && zoom.zoomOut()} aria-label=${t('Zoom out')}>−</button>
        <button type="button" onClick=${() => zoom && zoom.reset()}>${t('Reset')}</button>
        <a href=${binary.url} download=${binary.name}>${t('Download')}</a>
      </span></figcaption>
  </figure>`;
}

export function DocumentView({ id, query }) {
  const vin = currentVin(query);
  const found = useApi(`/air/documents/${encodeURIComponent(id)}${vin ? '?vin=' + vin : ''}`);
  const doc = found.data;
  const back = html`<p><a href=${'#/air' + (vin ? '?vin=' + vin : '')} onClick=${(e) => { if (history.length > 1) { e.preventDefault(); history.back(); } }}>
    ${t('Back to the results')}</a></p>`;
  if (found.error) {
    const details = found.error.details || {};
    return html`<${Page} title=${t('Technical information')}>${back}
      <${ErrorBanner} error=${found.error} />
      ${found.error.status === 402 && html`<${Offer} tariffs=${details.tariffs} vin=${vin} message=${t('Buy access to read this document.')} />`}
    </${Page}>`;
  }
  if (!doc) return html`<${Page} title=${t('Technical information')}><${Loading} /></${Page}>`;
  const body = doc.body;
  return html`<${Page} title=${doc.title} wide>
    ${back}
    <p class="meta">${doc.type_label} · ${doc.system} ${doc.system_label} · ${t('version {n}', { n: doc.version })} · ${t('valid from {when}', { when: date(doc.valid_from) })}
      ${doc.codes.length ? ' · ' + doc.codes.join(', ') : ''}</p>
    ${body.summary && html`<p class="lead">${body.summary}</p>`}
    ${body.steps.length > 0 && html`<section aria-labelledby="steps"><h2 id="steps">${t('Steps')}</h2><ol class="work-steps">
      ${body.steps.map((step) => html`<li><p>${step.text}</p>
        ${step.caution && html`<p class="caution"><strong>${t('Caution')}:</strong> ${step.caution}</p>`}
        ${step.torque_nm != null && html`<p class="torque"><strong>${t('Torque')}:</strong> ${number(step.torque_nm)} Nm</p>`}
        ${step.tools && step.tools.length > 0 && html`<p class="tools"><strong>${t('Tools')}:</strong> ${step.tools.join(', ')}</p>`}
      </li>`)}</ol></section>`}
    ${body.data.length > 0 && html`<section aria-labelledby="data"><h2 id="data">${t('Technical data')}</h2>
      <table><thead><tr><th scope="col">${t('Item')}</th><th scope="col">${t('Value')}</th></tr></thead>
      <tbody>${body.data.map((row) => html`<tr><th scope="row">${row.item}</th><td>${row.value} ${row.unit || ''}</td></tr>`)}</tbody></table></section>`}
    ${body.parts && body.parts.length > 0 && html`<section aria-labelledby="parts-used"><h2 id="parts-used">${t('Parts')}</h2>
      <ul data-testid="parts-used">${body.parts.map((p) => html`<li>${p.quantity} × <a href=${`#/parts/part/${p.number}${vin ? '?vin=' + vin : ''}`}>
        ${p.number.replace(/^(\d{2})(\d{2})(\d)(\d{3})(\d{3})$/, '$1 $2 $3 $4 $5')}</a></li>`)}</ul></section>`}
    ${body.tools.length > 0 && html`<section aria-labelledby="tools"><h2 id="tools">${t('Special tools')}</h2><ul>${body.tools.map((tool) => html`<li>${tool}</li>`)}</ul></section>`}
    ${body.notes.length > 0 && html`<section aria-labelledby="notes"><h2 id="notes">${t('Notes')}</h2><ul>${body.notes.map((note) => html`<li>${note}</li>`)}</ul></section>`}
    ${doc.binaries.map((binary) => (binary.media_type === 'image/svg+xml'
      ? html`<${DiagramViewer} binary=${binary} />`
      : html`<p><a href=${binary.url} download=${binary.name}>${binary.title || binary.name}</a></p>`))}
  </${Page}>`;
}
