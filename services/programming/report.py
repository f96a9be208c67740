"""The job report as a PDF: the complaint, the fault memory before and after the repair with freeze frames, the
actuator tests run, the operations with their labour times, the parts, and the estimate of both."""
from services.shared.pdf import FONT, document


def _money(cents):
    return f"{cents / 100:,.2f} EUR"


def _line(pdf, text, size=10, style=""):
    pdf.set_font(FONT, style, size)
    pdf.multi_cell(0, 5 if size <= 10 else 8, text, new_x="LMARGIN", new_y="NEXT")


def _fault_memory(pdf, title, ecus):
    _line(pdf, title, 12, "B")
    if ecus is None:
        _line(pdf, "Not read.")
        return
    for ecu in ecus:
        if not ecu.get("reachable", True):
            _line(pdf, f"{ecu['address']} {ecu['name']}: did not answer ({ecu.get('error', '')})")
            continue
        if not ecu.get("dtcs"):
            continue
        _line(pdf, f"{ecu['address']} {ecu['name']}", 10, "B")
        for dtc in ecu["dtcs"]:
            seen = f", {dtc['occurrences']} occurrence(s)" if dtc.get("occurrences") is not None else ""
            state = "present" if dtc.get("test_failed") else "stored"
            _line(pdf, f"  {dtc['code']} {dtc['text']} (status {dtc['status']}, {state}{seen})")
            for reading in dtc.get("freeze_frame") or []:
                value = reading.get("value", reading.get("raw"))
                _line(pdf, f"      freeze frame: {reading['label']} {value} {reading.get('unit', '')}", 9)
    if not any(ecu.get("dtcs") for ecu in ecus):
        _line(pdf, f"No fault stored in {sum(1 for e in ecus if e.get('reachable', True))} ECUs.")
    pdf.ln(2)


def job_report(job, runs, now):
    pdf = document(f"Job report {job.vin}", "AOS", now)
    _line(pdf, f"Job report — {job.vin}", 16, "B")
    _line(pdf, f"Opened {job.opened_at:%Y-%m-%d %H:%M} UTC, closed {now:%Y-%m-%d %H:%M} UTC. "
               f"Odometer {job.odometer_km:,} km.")
    _line(pdf, f"Complaint: {job.complaint}")
    pdf.ln(3)
    _fault_memory(pdf, "Fault memory as found", job.before)
    _fault_memory(pdf, "Fault memory after the repair (cleared, tested again)", job.after)
    tests = [r for r in runs if r.kind == "routine" and r.state == "done"]
    if tests:
        _line(pdf, "Actuator tests", 12, "B")
        for run in tests:
            _line(pdf, f"  {run.params['ecu_address']} {run.params['routine']}: {(run.result or {}).get('result')}")
        pdf.ln(2)
    _line(pdf, "Operations", 12, "B")
    for operation in job.operations:
        _line(pdf, f"  {operation['title']} ({operation['document_id']}): {operation['hours']} h")
    if job.parts:
        pdf.ln(2)
        _line(pdf, "Parts", 12, "B")
        for part in job.parts:
            written = part.get("written") or part["number"]
            if part.get("net_cents") is None:
                _line(pdf, f"  {part['quantity']} x {written}: not priced (no parts access)")
                continue
            replaced = f" (replaces {part['asked']})" if part.get("asked") else ""
            _line(pdf, f"  {part['quantity']} x {written} {part['name']}{replaced}: "
                       f"{_money(part['unit_net_cents'])} each, {_money(part['net_cents'])} net")
    estimate = job.estimate()
    pdf.ln(2)
    _line(pdf, "Estimate", 12, "B")
    _line(pdf, f"  Labour {estimate['hours']} h at {_money(estimate['labour_rate_cents'])}/h: "
               f"{_money(estimate['labour_net_cents'])} net")
    _line(pdf, f"  Parts: {_money(estimate['parts_net_cents'])} net"
               + (f" ({estimate['parts_unpriced']} line(s) not priced)" if estimate["parts_unpriced"] else ""))
    _line(pdf, f"  Net: {_money(estimate['net_cents'])}")
    _line(pdf, f"  VAT {estimate['vat_rate']} %: {_money(estimate['vat_cents'])}")
    _line(pdf, f"  Total: {_money(estimate['gross_cents'])}", 11, "B")
    return bytes(pdf.output())
