// One vehicle: build data, control units, service history with the form to add a record, maintenance due,
// campaigns. Without access: the decoded VIN and what to buy.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { api, useApi } from '../api.js';
import { N_, date, dateTime, number, t } from '../i18n.js';
import { ErrorBanner, Field, formValues, Loading, Notice, Offer, Page, useAction } from '../ui.js';

function ServiceRecordForm({ vin, onSaved }) {
  const { error, run } = useAction();
  const [saved, setSaved] = useState(false);
  const today = new Date().toISOString().slice(0, 10);
  const submit = async (event) => {
    event.preventDefault();
    const form = event.target;
    const values = formValues(form);
    setSaved(false);
    const body = { performed_on: values.performed_on, odometer_km: values.odometer_km,
      items: [{ code: (values.code || '').trim().toUpperCase(), text: values.text }] };
    const stored = await run(() => api('POST', `/vehicles/${vin}/service-records`, { body }).catch((exc) => {
      Object.entries(exc.fields).forEach(([name, messages]) => { // items.0.code -> code, as the form names it
        if (name.startsWith('items')) exc.fields[name.split('.').pop()] = messages;
      });
      throw exc;
    }));
    if (stored) {
      form.reset();
      setSaved(true);
      onSaved();
    }
  };
  return html`<form onSubmit=${submit} novalidate class="record-form">
    <h3>${t('Add a service record')}</h3>
    <${ErrorBanner} error=${error} />
    <${Field} label=${t('Date of the work')} name="performed_on" type="date" defaultValue=${today} max=${today} error=${error} required />
    <${Field} label=${t('Odometer (km)')} name="odometer_km" type="number" min="0" step="1" error=${error} required />
    <${Field} label=${t('Work code')} name="code" error=${error} required hint=${t('e.g. ENGINE_OIL, BRAKE_FLUID, VEHICLE_CHECK')} />
    <${Field} label=${t('What was done')} name="text" error=${error} maxlength="500" />
    <button type="submit">${t('Save the record')}</button>
    ${saved && html`<${Notice} kind="success">${t('The record is saved.')}</${Notice}>`}
  </form>`;
}

// An option the workshop fitted: the order's next version, which the car's coding then follows.
function RetrofitForm({ vin, onSaved }) {
  const { error, run } = useAction();
  const submit = async (event) => {
    event.preventDefault();
    const form = event.target;
    const body = formValues(form);
    if (body.option) body.option = body.option.trim().toUpperCase();
    if (await run(() => api('POST', `/vehicles/${vin}/retrofits`, { body }))) {
      form.reset();
      onSaved();
    }
  };
  return html`<form onSubmit=${submit} novalidate class="inline-form" aria-label=${t('Retrofit an option')}>
    <${Field} label=${t('Option fitted')} name="option" error=${error} required maxlength="4" autocomplete="off"
      hint=${t('Its option code, e.g. S3AC (trailer tow hitch): the coding then follows the order.')} />
    <button type="submit">${t('Add to the order')}</button>
    <${ErrorBanner} error=${error} />
  </form>`;
}

const STATUS = { overdue: N_('Overdue'), due: N_('Due soon'), ok: N_('OK') };

export function Vehicle({ vin }) {
  const vehicle = useApi(`/vehicles/${encodeURIComponent(vin)}`);
  const v = vehicle.data;
  const access = v && v.access;
  const history = useApi(access ? `/vehicles/${vin}/service-records` : null, [access]);
  const maintenance = useApi(access ? `/vehicles/${vin}/maintenance` : null, [access, history.data]);
  const campaigns = useApi(access ? `/vehicles/${vin}/campaigns` : null, [access, history.data]);
  if (!v) return html`<${Page} title=${t('Vehicle {vin}', { vin })}><${ErrorBanner} error=${vehicle.error} />${vehicle.loading && html`<${Loading} />`}</${Page}>`;
  const d = v.decoded;
  return html`<${Page} title=${t('Vehicle {vin}', { vin })} wide>
    <p class="meta">${d.manufacturer} · ${d.country} · ${t('model year')} ${d.model_year}${v.build ? ' · ' + v.build.series : ''}
      ${' · '}<a href=${'#/air?vin=' + vin}>${t('Technical information for this vehicle')}</a>
      ${' · '}<a href=${'#/programming?vin=' + vin}>${t('Program this vehicle')}</a></p>
    ${!v.registered && html`<${Notice} kind="warning">${t('The manufacturer\'s registry has no vehicle with this VIN.')}</${Notice}>`}
    ${v.offer && html`<${Offer} tariffs=${v.offer.tariffs} vin=${vin} message=${v.offer.message} />`}
    ${v.build && html`<section aria-labelledby="build"><h2 id="build">${t('Build data')}</h2><dl class="facts">
      <div><dt>${t('Series')}</dt><dd>${v.build.series}</dd></div>
      <div><dt>${t('Model code')}</dt><dd>${v.build.model_code}</dd></div>
      <div><dt>${t('Engine')}</dt><dd>${v.build.engine_code}</dd></div>
      <div><dt>${t('Transmission')}</dt><dd>${v.build.transmission}</dd></div>
      <div><dt>${t('Production date')}</dt><dd>${date(v.build.production_date)}</dd></div>
      <div><dt>${t('Paint')}</dt><dd>${v.build.paint}</dd></div>
      <div><dt>${t('Options')}</dt><dd data-testid="options">${v.build.options.join(', ')}</dd></div>
      ${v.build.country && html`<div><dt>${t('Built for')}</dt><dd>${v.build.country}</dd></div>`}
      <div><dt>${t('Order version')}</dt><dd data-testid="order-version">${v.build.order_version}</dd></div>
    </dl>
    ${v.build.retrofits.length > 0 && html`<ul data-testid="retrofits">${v.build.retrofits.map((r) => html`<li>
      ${t('{option} retrofitted {when} (version {version})', { option: r.option, when: dateTime(r.added_at), version: r.version })}</li>`)}</ul>`}
    <${RetrofitForm} vin=${vin} onSaved=${vehicle.reload} /></section>`}
    ${v.ecus && html`<section aria-labelledby="ecus"><h2 id="ecus">${t('Control units')}</h2>
      <div class="table-wrap" tabindex="0" role="region" aria-label=${t('Control units')}><table>
      <thead><tr><th scope="col">${t('Address')}</th><th scope="col">${t('Control unit')}</th><th scope="col">${t('Hardware')}</th><th scope="col">${t('Software')}</th><th scope="col">${t('Serial')}</th></tr></thead>
      <tbody>${v.ecus.map((ecu) => html`<tr><td>${ecu.address}</td><th scope="row">${ecu.name}</th><td>${ecu.hardware_part_number}</td><td>${ecu.software_version}</td><td>${ecu.serial_number || '–'}</td></tr>`)}</tbody>
      </table></div></section>`}
    ${campaigns.data && html`<section aria-labelledby="campaigns"><h2 id="campaigns">${t('Recalls and campaigns')}</h2>
      ${campaigns.data.campaigns.length === 0 ? html`<p>${t('No recalls or campaigns.')}</p>` : html`<ul class="cards">
        ${campaigns.data.campaigns.map((c) => html`<li class=${'card campaign ' + c.status}><h3>${c.code}: ${c.title}</h3>
          <p>${c.description}</p><p class="hint">${c.kind === 'recall' ? t('Recall') : t('Service campaign')} · ${t('published {when}', { when: date(c.published_on) })} ·
          <strong>${c.status === 'open' ? t('open') : t('done')}</strong></p></li>`)}</ul>`}</section>`}
    ${maintenance.data && html`<section aria-labelledby="maintenance"><h2 id="maintenance">${t('Maintenance due')}</h2>
      <div class="table-wrap" tabindex="0" role="region" aria-label=${t('Maintenance due')}><table>
      <thead><tr><th scope="col">${t('Item')}</th><th scope="col">${t('Status')}</th><th scope="col" class="num">${t('Due at km')}</th><th scope="col">${t('Due on')}</th><th scope="col">${t('Last done')}</th></tr></thead>
      <tbody>${maintenance.data.items.map((item) => html`<tr class=${'status-' + item.status}><th scope="row">${item.name}</th>
        <td><strong>${t(STATUS[item.status] || item.status)}</strong></td>
        <td class="num">${item.due_km != null ? number(item.due_km) : ''}</td><td>${date(item.due_on)}</td>
        <td>${item.last_done_on ? `${date(item.last_done_on)} (${number(item.last_done_km)} km)` : ''}</td></tr>`)}</tbody>
      </table></div>
      <p class="hint">${t('Odometer {km} km as of {when}.', { km: number(maintenance.data.odometer_km), when: date(maintenance.data.as_of) })}</p></section>`}
    ${access && html`<section aria-labelledby="history"><h2 id="history">${t('Service history')}</h2>
      <${ErrorBanner} error=${history.error} />
      ${history.data && (history.data.records.length === 0 ? html`<p>${t('No service records yet.')}</p>` : html`<ol class="records">
        ${history.data.records.map((r) => html`<li><strong>${date(r.performed_on)}</strong> · ${number(r.odometer_km)} km ·${' '}
          ${r.by_your_workshop ? t('your workshop') : (r.workshop && r.workshop.name) || t('another workshop')}
          ${r.odometer_discrepancy && html` · <strong class="warning-text">${t('odometer lower than before')}</strong>`}
          <ul>${r.items.map((item) => html`<li><code>${item.code}</code> ${item.text || ''}</li>`)}</ul>
          <small class="hint">${t('recorded {when}', { when: dateTime(r.recorded_at) })}</small></li>`)}</ol>`)}
      <${ServiceRecordForm} vin=${vin} onSaved=${history.reload} />
    </section>`}
  </${Page}>`;
}
