"""The job on the lift, step by step, each inside one unit of work: open a job for a car with the customer's
complaint, diagnose it through the workshop's agent (quick test, live data, actuator tests, clear) on a clock
that runs only while the agent works, link each fault code to its documents in AIR, pick the operations and
their labour times, and close it with a service record and a PDF report. The rules are domain.JobCard's and
domain.DiagnosisRun's."""
from sqlalchemy import select

from services.programming import coding, descriptions, domain
from services.programming.models import Access, Account, CodingRules, DiagnosisAccount, DiagnosisRun, JobCard
from services.programming.report import job_report
from services.programming.use_cases import (AccountTime, _publish, _seen, _usable, _workshops_agent, authenticate,
                                            looked_at, watch_each)
from services.billing.access import AccessBook
from services.shared.database import new_id
from services.shared.errors import Conflict, NotFound, PaymentRequired, Unavailable, invalid_field

ACCESS = AccessBook(Access)  # billing's VIN passes and access to technical information, as programming keeps them


ACCOUNTS = {"diagnosis": DiagnosisAccount, "programming": Account}


def diagnosis_time(s, operator_id):
    return AccountTime(s, operator_id, DiagnosisAccount)


def run_time(s, operator_id, kind):
    """The paid time a run of `kind` runs on: programming time for coding, remote-diagnosis time otherwise."""
    return AccountTime(s, operator_id, ACCOUNTS[domain.run_scope(kind)])


def _payment(ctx, s, operator_id, vin, seconds, reserve=True, kind="quick_test"):
    """Who pays a run: a VIN pass for the car, else `seconds` of the run's paid time reserved now (all of them
    or none: nothing runs unpaid). A 402 names what to buy."""
    scope = domain.run_scope(kind)
    if ACCESS.allows(s, operator_id, scope, vin, ctx.now):
        return "vin_pass", 0
    time = run_time(s, operator_id, kind)
    if time.available() < seconds or (reserve and time.reserve(seconds) < seconds):
        refused = domain.no_diagnosis_time() if scope == "diagnosis" else domain.no_programming_time()
        raise PaymentRequired(refused.code, refused.message, refused.details | {
            "seconds_needed": seconds, "tariffs": ctx.offer(scope)})
    return "time", seconds if reserve else 0


# ---- the workshop's side ----------------------------------------------------------------------------------------

def open_job(ctx, actor, payload):
    domain.require_diagnostician(actor)
    vin = payload["vin"].upper()
    car = ctx.describe(vin)  # 404 for a car the registry does not know
    country = ctx.me(actor)["operator"]["country"]
    with ctx.store.transaction() as uow:
        s = uow.session
        agent = _workshops_agent(s, actor, payload["agent_id"])
        _usable(agent)
        # a job is for diagnosing or coding: without a pass or time for either, 402 with the offer, nothing written
        try:
            _payment(ctx, s, actor["operator_id"], vin, domain.RUN_SECONDS["quick_test"], reserve=False)
        except PaymentRequired as refused:
            try:
                _payment(ctx, s, actor["operator_id"], vin, domain.RUN_SECONDS["read_coding"], reserve=False,
                         kind="read_coding")
            except PaymentRequired as too:
                raise PaymentRequired(refused.code, refused.message + " Coding needs programming time.",
                                      refused.details | {"tariffs": refused.details["tariffs"] + too.details["tariffs"]})
        job = JobCard.open(new_id(), actor, vin, agent.id, payload["complaint"], payload["odometer_km"],
                           payload["labour_rate_cents"], country,
                           [{"address": e["address"], "name": e["name"]} for e in car["ecus"]], ctx.now)
        s.add(job)
        uow.emit("JobOpened", {"job_id": job.id, "operator_id": job.operator_id, "user_id": job.user_id,
                               "vin": vin, "odometer_km": job.odometer_km, "opened_at": ctx.now}, subject=vin)
        s.flush()
        return _view(ctx, s, job, actor=None)


def _mine(s, actor, job_id, lock=False):
    found = s.get(JobCard, job_id, with_for_update=lock)
    if found is None or found.operator_id != actor["operator_id"]:
        raise NotFound("JOB_NOT_FOUND", "Your workshop has no such job.", {"field": "job_id"})
    return found


def jobs(ctx, actor, limit=50):
    with ctx.store.read() as s:
        found = s.scalars(select(JobCard).where(JobCard.operator_id == actor["operator_id"])
                          .order_by(JobCard.opened_at.desc()).limit(limit)).all()
        return {"jobs": [_summary(j) for j in found]}


def _summary(job):
    return {"id": job.id, "vin": job.vin, "complaint": job.complaint, "odometer_km": job.odometer_km,
            "state": job.state, "opened_at": job.opened_at, "closed_at": job.closed_at,
            "faults": sorted({d["code"] for e in job.before or [] for d in e.get("dtcs", [])})}


def get_job(ctx, actor, job_id):
    with ctx.store.read() as s:
        return _view(ctx, s, _mine(s, actor, job_id), actor)


def _view(ctx, s, job, actor):
    runs = s.scalars(select(DiagnosisRun).where(DiagnosisRun.job_id == job.id)
                     .order_by(DiagnosisRun.created_at)).all()
    return _summary(job) | {
        "agent_id": job.agent_id, "ecus": job.ecus, "before": job.before, "after": job.after,
        "cleared_at": job.cleared_at, "operations": job.operations, "parts": job.parts, "estimate": job.estimate(),
        "service_record_id": job.service_record_id, "report": job.report_key is not None,
        "runs": [_run_view(r, ctx.now) for r in runs],
        "findings": _findings(ctx, actor, job, runs) if actor is not None else [],
        "diagnosis_seconds_left": diagnosis_time(s, job.operator_id).available(),
        "programming_seconds_left": AccountTime(s, job.operator_id, Account).available(),
        "vin_pass": ACCESS.allows(s, job.operator_id, "diagnosis", job.vin, ctx.now),
        "coding": _coding_view(job, runs), "replacements": job.replacements or {}}


def _coding_view(job, runs):
    if job.coding is None:
        return None
    last = next((r for r in runs if r.id == job.coding["run_id"]), None)
    return {**job.coding, "state": job.coding_state(last.state if last else None)}


def get_run(ctx, actor, job_id, run_id):
    """One run as it goes: what a screen polls while the agent reads (the job's AIR links are not asked again)."""
    with ctx.store.read() as s:
        job = _mine(s, actor, job_id)
        run = s.get(DiagnosisRun, run_id)
        if run is None or run.job_id != job.id:
            raise NotFound("RUN_NOT_FOUND", "This job has no such run.", {"field": "run_id"})
        return _run_view(run, ctx.now)


def _run_view(run, now):
    used = run.seconds_used
    if run.state == "running":
        used = (run.last_contact_at - run.started_at).total_seconds()
    return {"id": run.id, "kind": run.kind, "params": run.params, "state": run.state, "paid_by": run.paid_by,
            "result": run.result, "samples": run.samples[-600:], "detail": run.detail,
            "created_at": run.created_at, "started_at": run.started_at, "finished_at": run.finished_at,
            "seconds": used, "clock_running": run.state == "running"}


def _findings(ctx, actor, job, runs):
    """Each fault code found, with its fault-code document and the ranked repair instructions for this car
    (AIR, with the workshop's own access: a workshop without information access gets titles only), and its test
    plan's live-data checks with the last value read of each against its limits."""
    found = {}
    for ecu in (job.before or []) + (job.after or []):
        for dtc in ecu.get("dtcs", []):
            found.setdefault(dtc["code"], {"code": dtc["code"], "text": dtc["text"], "ecu": ecu["name"],
                                           "ecu_address": ecu["address"],
                                           "checks": _checks(ecu, dtc.get("checks", []), runs)})
    out = []
    for code, finding in sorted(found.items()):
        described = ctx.search(actor, {"q": code, "vin": job.vin, "type": "fault_code", "size": 1})
        repairs = ctx.search(actor, {"q": finding["text"], "vin": job.vin, "type": "repair_instruction", "size": 5})
        out.append(finding | {"document": (described["hits"] or [None])[0], "repairs": repairs["hits"],
                              "access": repairs["access"], "offer": repairs.get("offer")})
    return out


def _checks(ecu, names, runs):
    """The test plan's identifiers with the last value read of each on that ECU (None until read), its limits,
    and whether it is in them."""
    last = {}
    for run in runs:
        if run.kind == "live_data" and run.params.get("ecu_address") == ecu["address"] and run.samples:
            last |= {r["name"]: r for r in run.samples[-1]["values"] if r.get("name")}
    offered = {d["name"]: d for d in ecu.get("identifiers", [])}
    return [last.get(name) or {"name": name, "label": offered.get(name, {}).get("label", name), "value": None,
                               "unit": offered.get(name, {}).get("unit"), "in_limits": None}
            for name in names]


def start_run(ctx, actor, job_id, payload):
    """Queue a piece of diagnosis or coding for the job's agent, paid before it is queued. A coding write writes
    what the last read found different from the order's target, never what a client sends."""
    domain.require_diagnostician(actor)
    kind = payload["kind"]
    params = domain.run_params(kind, payload)
    car = ctx.describe(_car_of(ctx, actor, job_id)) if kind in domain.CODING_RUNS else None
    with ctx.store.transaction() as uow:
        s = uow.session
        job = _mine(s, actor, job_id, lock=True)
        job.require_open()
        if "ecu_address" in params:
            job.require_ecu(params["ecu_address"])
        if kind == "clear":
            job.cleared(ctx.now)  # refused before a first quick test
        busy = s.scalar(select(DiagnosisRun.id).where(DiagnosisRun.job_id == job.id,
                                                      DiagnosisRun.state.in_(("queued", "running"))))
        if busy:
            raise Conflict("RUN_IN_PROGRESS", "A diagnosis run of this job is still going: wait for it.",
                           {"run_id": busy})
        if kind in domain.CODING_RUNS:
            _require_rules(s)
        if kind == "write_coding":
            last = s.get(DiagnosisRun, job.coding["run_id"]) if job.coding else None
            params = {"writes": job.coding_writes(car["order_version"], last.state if last else None)}
        elif kind == "restore_ecu":
            wanted = coding.target(_rules(s), descriptions.layouts(s), job.ecus, car).get(params["ecu_address"], {})
            params = job.restore_params(params["ecu_address"], job.vin, wanted)
        paid_by, reserved = _payment(ctx, s, job.operator_id, job.vin, domain.run_seconds(kind, params), kind=kind)
        run = DiagnosisRun.queue(new_id(), job, kind, params, paid_by, reserved, ctx.now)
        s.add(run)
        if kind == "write_coding":
            job.coding_writing(run.id)
        return _run_view(run, ctx.now)


def _car_of(ctx, actor, job_id):
    with ctx.store.read() as s:
        return _mine(s, actor, job_id).vin


def _rules(s):
    found = s.scalar(select(CodingRules).order_by(CodingRules.imported_at.desc()).limit(1))
    return found.rules if found else None


def _require_rules(s):
    if _rules(s) is None:
        raise Conflict("NO_CODING_RULES", "The manufacturer's coding rules are not imported yet: coding waits for "
                       "them (they come with the software catalogue).", {"field": "kind"})


def choose_operations(ctx, actor, job_id, payload):
    """The operations the technician picked, each an AIR document for this car; the labour time is the
    document's own, never the client's."""
    domain.require_diagnostician(actor)
    with ctx.store.read() as s:
        job = _mine(s, actor, job_id)
        job.require_open()
        vin = job.vin
    operations = []
    for index, document_id in enumerate(payload["document_ids"]):
        document = ctx.document(actor, document_id, {"vin": vin})
        operations.append({"document_id": document_id, "title": document["title"],
                           "hours": domain.labour_hours(document, f"document_ids.{index}"),
                           "parts": document["body"].get("parts", [])})
    with ctx.store.read() as s:
        job = _mine(s, actor, job_id)
        brought, wanted = job.brought(operations), job.parts_wanted()
    quote = None
    if brought:
        try:  # the catalogue prices them with the workshop's parts access; without it they come unpriced
            quote = ctx.quote(actor, {"vin": vin, "lines": wanted + [
                {"number": b["number"], "quantity": b["quantity"]} for b in brought]})
        except (PaymentRequired, NotFound, Unavailable):
            quote = None
    with ctx.store.transaction() as uow:
        job = _mine(uow.session, actor, job_id, lock=True)
        job.choose([{k: v for k, v in o.items() if k != "parts"} for o in operations])
        if quote is not None:
            job.priced(quote, {b["number"]: b["document_id"] for b in brought})
        elif brought:
            job.unpriced(brought)
        return _view(ctx, uow.session, job, actor=None)


def put_part(ctx, actor, job_id, payload):
    """A part on the job at a quantity (the catalogue's "add to job"; again, the quantity changes), priced at the
    workshop's prices: 402 without parts access, 404 for a number the catalogue does not have; nothing changes."""
    domain.require_diagnostician(actor)
    with ctx.store.read() as s:
        job = _mine(s, actor, job_id)
        job.require_open()
    one = ctx.quote(actor, {"vin": job.vin, "lines": [payload]})["lines"][0]
    asked = (one.get("asked") or one["written"]).replace(" ", "")
    quote = ctx.quote(actor, {"vin": job.vin, "lines": job.put_part(one["number"], asked, payload["quantity"])})
    with ctx.store.transaction() as uow:
        job = _mine(uow.session, actor, job_id, lock=True)
        job.priced(quote)
        return _view(ctx, uow.session, job, actor=None)


def set_parts(ctx, actor, job_id, payload):
    """The job's whole parts list as the technician edited it (a line left out is taken off), priced again."""
    domain.require_diagnostician(actor)
    with ctx.store.read() as s:
        job = _mine(s, actor, job_id)
        job.require_open()
    quote = ctx.quote(actor, {"vin": job.vin, "lines": payload["lines"]}) if payload["lines"] else {"lines": []}
    with ctx.store.transaction() as uow:
        job = _mine(uow.session, actor, job_id, lock=True)
        job.priced(quote)
        return _view(ctx, uow.session, job, actor=None)


def close_job(ctx, actor, job_id):
    """The service record written (vehicle data), the PDF report kept (object storage), JobClosed told."""
    domain.require_diagnostician(actor)
    with ctx.store.read() as s:
        job = _mine(s, actor, job_id)
        job.require_open()
        job.require_tested()
        record_id = job.service_record_id
    if record_id is None:  # kept on the job at once: a retried close never writes a second record
        record_id = ctx.add_record(actor, job.vin, {"performed_on": ctx.now.date().isoformat(),
                                                    "odometer_km": job.odometer_km,
                                                    "items": job.work_items()})["record_id"]
        with ctx.store.transaction() as uow:
            _mine(uow.session, actor, job_id, lock=True).service_record_id = record_id
    with ctx.store.read() as s:
        job = _mine(s, actor, job_id)
        runs = s.scalars(select(DiagnosisRun).where(DiagnosisRun.job_id == job.id)
                         .order_by(DiagnosisRun.created_at)).all()
        pdf = job_report(job, runs, ctx.now)
    key = f"jobs/{job.operator_id}/{job.id}.pdf"
    ctx.blobs.put(key, pdf, "application/pdf")
    with ctx.store.transaction() as uow:
        job = _mine(uow.session, actor, job_id, lock=True)
        _publish(uow, job, job.close(record_id, key, ctx.now))
        return _view(ctx, uow.session, job, actor=None)


def report_link(ctx, actor, job_id):
    with ctx.store.read() as s:
        job = _mine(s, actor, job_id)
        if job.report_key is None:
            raise Conflict("NO_REPORT_YET", "The report is written when the job is closed.", {"field": "job_id"})
        return {"url": ctx.blobs.signed_url(job.report_key, ctx.settings.link_seconds)}


# ---- the agent's side -------------------------------------------------------------------------------------------

def next_run(s, agent, now):
    """The agent's next diagnosis run, taken (its clock starts), or None."""
    run = s.scalar(select(DiagnosisRun).where(DiagnosisRun.agent_id == agent.id,
                                              DiagnosisRun.state.in_(("queued", "running")))
                   .order_by(DiagnosisRun.created_at).with_for_update())
    if run is None:
        return None
    run.take(now)
    job = s.get(JobCard, run.job_id)
    ecus = job.ecus
    if run.params.get("ecu_address"):
        ecus = [e for e in ecus if e["address"] == run.params["ecu_address"]]
    return {"kind": "diagnosis", "run": run.kind, "run_id": run.id, "session_id": run.id, "next_sequence": 1,
            "vin": run.vin, "targets": ecus, "params": run.params, "budget_seconds": run.budget_left(now)}


def _agents_run(s, credentials, run_id, now):
    agent = authenticate(s, *credentials)
    _seen(agent, now)
    run = s.get(DiagnosisRun, run_id, with_for_update=True)
    if run is None or run.agent_id != agent.id:
        raise NotFound("RUN_NOT_FOUND", "This agent has no such diagnosis run.", {"field": "run_id"})
    return run


def samples(ctx, credentials, run_id, payload):
    """A batch of live data: kept on the run, the clock counts to now; whether to go on (paid time left)."""
    with ctx.store.transaction() as uow:
        run = _agents_run(uow.session, credentials, run_id, ctx.now)
        run.sampled(payload["samples"], ctx.now)
        left = run.budget_left(ctx.now)
        return {"go_on": left is None or left > 1, "state": run.state}


def run_report(ctx, credentials, run_id, payload):
    """The agent's result of a run; a quick test's fault memory goes onto the job card, a coding read's coding
    with its target and differences, a coding write's read-back with each change verified (CodingWritten)."""
    order = None
    with ctx.store.read() as s:  # what is asked of other services before the transaction, for this agent's run only
        agent = authenticate(s, *credentials)
        found = s.get(DiagnosisRun, run_id)
        found = found if found is not None and found.agent_id == agent.id else None  # refused below, in words
        job = found and s.get(JobCard, found.job_id)
    if found is not None and found.state == "running" and payload["outcome"] == "done":
        if found.kind == "read_coding":
            order = ctx.describe(found.vin)  # the order as it stands when the coding was read
        elif found.kind == "restore_ecu":
            _registry_follows(ctx, found, job, (payload.get("result") or {}).get("unit"))
    with ctx.store.transaction() as uow:
        s = uow.session
        run = _agents_run(s, credentials, run_id, ctx.now)
        if run.state in domain.RUN_FINAL:
            return _run_view(run, ctx.now)
        job = s.get(JobCard, run.job_id, with_for_update=True)
        result = payload.get("result")
        if run.kind in domain.CODING_RUNS:
            _coding_report(ctx, uow, run, job, payload["outcome"], result, order)
        if run.kind == "quick_test" and payload["outcome"] == "done":
            if not result or result.get("ecus") is None:
                raise invalid_field("RESULT_REQUIRED", "result.ecus", "required_for_quick_test",
                                    "A quick test reports every ECU it asked.")
            asked = {e["address"] for e in job.ecus}
            if {e["address"] for e in result["ecus"]} - asked:
                raise invalid_field("ECU_NOT_IN_CAR", "result.ecus", "an_ecu_of_the_car",
                                    "The report names an ECU this car does not have.")
            job.tested(result["ecus"])
        facts = run.finish(payload["outcome"], result, payload.get("detail"), ctx.now,
                           run_time(s, run.operator_id, run.kind))
        _publish(uow, run, facts)
        return _run_view(run, ctx.now)


def _registry_follows(ctx, run, job, unit):
    """The registry records the unit the restore found and made part of the car (before the report is taken: a
    report that comes again tells the registry the same, which changes nothing). Only for the agent that runs the
    restore (run_report checked its credential)."""
    if not unit or unit.get("address") != run.params["ecu_address"] or unit.get("vin") != job.vin:
        return  # the report is refused below, in words; the registry is told of a restored unit only
    ctx.replace_ecu(job.vin, {"address": unit["address"], "hardware_part_number": unit["hardware_part_number"],
                              "software_version": unit["software_version"], "serial_number": unit["serial_number"],
                              "old_serial_number": run.params.get("old_serial"), "operator_id": job.operator_id,
                              "user_id": job.user_id, "job_id": job.id})


def _coding_report(ctx, uow, run, job, outcome, result, order):
    """A coding or replacement run's result, checked against the layouts (what an ECU holds must be what its ODX
    allows, on an ECU of the car) before it goes onto the job."""
    s = uow.session
    if outcome != "done":
        if run.kind == "write_coding":
            job.coding_failed()
        return
    layouts, names = descriptions.layouts(s), {e["address"]: e["name"] for e in job.ecus}
    if run.kind in ("backup_ecu", "restore_ecu"):
        unit = (result or {}).get("unit")
        if not unit or unit.get("address") != run.params["ecu_address"]:
            raise invalid_field("RESULT_REQUIRED", "result.unit", "the_run_s_unit",
                                "A backup or a restore reports the unit of its run.")
        coding.require_held(layouts, names, unit["address"], unit.get("coding") or {}, "result.unit.coding")
        if run.kind == "backup_ecu":
            job.backed_up(unit["address"], unit, ctx.now)
        else:
            job.restored(unit["address"], run.params, unit, ctx.now)
        return
    if run.kind == "read_coding":
        if not result or result.get("ecus") is None:
            raise invalid_field("RESULT_REQUIRED", "result.ecus", "required_for_read_coding",
                                "A coding read reports every ECU it asked.")
        actual = {e["address"]: e["coding"] for e in result["ecus"] if e.get("coding") is not None}
        for address, held in actual.items():
            coding.require_held(layouts, names, address, held, "result.ecus")
        wanted = coding.target(_rules(s), layouts, job.ecus, order)
        job.coding_read(run.id, actual, wanted, coding.differences(layouts, job.ecus, actual, wanted),
                        order["order_version"], ctx.now)
        return
    asked = {(w["ecu_address"], w["identifier"]) for w in run.params["writes"]}
    writes = (result or {}).get("writes") or []
    if {(w["address"], w["identifier"]) for w in writes} != asked:
        raise invalid_field("WRITES_NOT_ASKED", "result.writes", "the_writes_of_the_run",
                            "A coding write reports each write of its run, and only those.")
    for w in writes:
        if w.get("read_back") is not None:
            coding.require_held(layouts, names, w["address"], {w["identifier"]: w["read_back"]}, "result.writes")
    changes = job.coding_written(run.id, writes, ctx.now)
    job.coding = {**job.coding, "differences": coding.differences(layouts, job.ecus, job.coding["actual"],
                                                                  job.coding["target"])}
    for address in sorted({c["ecu_address"] for c in changes}):
        mine = [c for c in changes if c["ecu_address"] == address]
        uow.emit("CodingWritten", {
            "job_id": job.id, "run_id": run.id, "operator_id": job.operator_id, "vin": job.vin,
            "ecu_address": address, "ecu_type": coding.ecu_type(names[address]),
            "changes": [{"identifier": c["identifier"], "parameter": c["parameter"], "old_value": c["from"],
                         "new_value": c["to"], "verified": c["verified"]} for c in mine],
            "written_at": ctx.now}, subject=job.vin)


def watch_runs(ctx):
    with ctx.store.read() as s:
        # without the samples a live-data run keeps (up to 3,000): decoding them four times a second was a third of
        # programming's CPU with 24 workshops reading live data (bench.workshop_day --profile)
        live = looked_at(s, DiagnosisRun, domain.DiagnosisRun, DiagnosisRun.state.in_(("queued", "running")),
                         skip=("samples", "result"))
        due = [r for r in live if r.due(ctx.now, ctx.rules)]
    coded = [r.id for r in due if r.kind in domain.CODING_RUNS]
    return watch_each(ctx, DiagnosisRun, [r.id for r in due if r.kind not in domain.CODING_RUNS],
                      DiagnosisAccount) + watch_each(ctx, DiagnosisRun, coded, Account)


def user_deactivated(ctx, uow, user_id):
    """The runs of the jobs a deactivated user opened stop now (DiagnosisRun.stopped)."""
    s = uow.session
    runs = s.scalars(select(DiagnosisRun).join(JobCard, JobCard.id == DiagnosisRun.job_id)
                     .where(JobCard.user_id == user_id, DiagnosisRun.state.in_(("queued", "running")))
                     .order_by(DiagnosisRun.id).with_for_update(of=DiagnosisRun)).all()
    for run in runs:
        _publish(uow, run, run.stopped(domain.DEACTIVATED, ctx.now, run_time(s, run.operator_id, run.kind)))


# ---- billing's facts ---------------------------------------------------------------------------------------------

def record_purchase(uow, data):
    """Remote-diagnosis seconds bought; a VIN pass (a window for one car) kept for the diagnosis it pays, access to
    technical information for the diagnostic descriptions it opens (services.programming.descriptions)."""
    if ("vin" in data["scopes"] and data.get("vin")) or "air" in data["scopes"]:
        ACCESS.purchased(uow, data)
    if "diagnosis" in data["scopes"] and data.get("seconds"):
        AccountTime.credit(uow.session, data["operator_id"], data["seconds"], DiagnosisAccount)
