"""What programming does, step by step, each inside one unit of work: agents, sessions with their pre-flight,
the metered clock with reserve-then-settle, agents' heartbeats and reports, and the timer that notices silence
and the end of paid time."""
import hashlib
import hmac
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from services.programming import domain
from services.programming.models import Account, Agent, Package, Report, Session
from services.shared import metrics
from services.shared.errors import Conflict, NotFound, PaymentRequired, Unauthenticated, invalid_field

ONLINE_SECONDS = 30
for _cause in domain.CAUSES:  # every cause on the dashboard from the start, at zero
    metrics.FLASH_FAILURES.labels(_cause, domain.failure_side(_cause))


@dataclass
class Settings:
    heartbeat_timeout: float = 10.0  # no heartbeat for this long: the session is interrupted, the clock paused
    resume_limit: float = 300.0  # an interrupted session the same agent does not resume within this ends
    reserve_slice: int = 60  # seconds reserved from the operator's time at a time
    link_seconds: int = 900  # signed download links


@dataclass
class Context:
    store: object
    now: datetime
    settings: Settings
    blobs: object = None
    describe: object = None  # vin -> vehicle data's description
    claim_vin_session: object = None  # billing's RPC
    ecu_secret: bytes = b""


def new_id():
    return str(uuid.uuid4())


def _digest(credential):
    return hashlib.sha256(credential.encode()).hexdigest()


# ---- agents -------------------------------------------------------------------------------------------------------

def register_agent(ctx, actor, payload):
    credential = secrets.token_urlsafe(32)
    agent = Agent(id=new_id(), operator_id=actor["operator_id"], name=payload["name"],
                  credential_sha256=_digest(credential), registered_at=ctx.now)
    with ctx.store.transaction() as uow:
        uow.session.add(agent)
    return _agent_view(agent, ctx.now) | {"credential": credential}


def agents(ctx, actor):
    with ctx.store.read() as s:
        found = s.scalars(select(Agent).where(Agent.operator_id == actor["operator_id"])
                          .order_by(Agent.registered_at)).all()
        return {"agents": [_agent_view(a, ctx.now) for a in found]}


def _agent_view(agent, now):
    return {"id": agent.id, "name": agent.name, "registered_at": agent.registered_at,
            "last_seen_at": agent.last_seen_at,
            "online": agent.last_seen_at is not None and (now - agent.last_seen_at).total_seconds() < ONLINE_SECONDS}


def _seen(agent, now):
    """Online is a matter of tens of seconds: a write every few seconds per agent says it, not one per call."""
    if agent.last_seen_at is None or (now - agent.last_seen_at).total_seconds() >= ONLINE_SECONDS / 6:
        agent.last_seen_at = now


def authenticate(session, agent_id, credential):
    agent = session.get(Agent, agent_id) if agent_id else None
    if agent is None or not hmac.compare_digest(agent.credential_sha256, _digest(credential or "")):
        raise Unauthenticated("AGENT_CREDENTIAL_INVALID", "Unknown agent or wrong credential: register the agent "
                              "again and use the credential shown then.")
    return agent


# ---- sessions -------------------------------------------------------------------------------------------------

CHECKLIST = ("agent_connected", "battery_ok", "vin_matches", "ecus_read", "plan_computed", "binaries_verified")


def open_session(ctx, actor, payload):
    """Pre-flight begins with the clock stopped: the agent is asked to read the car, the plan follows."""
    vin = payload["vin"].upper()
    ctx.describe(vin)  # 404 for a car the registry does not know, 422 for a malformed VIN
    with ctx.store.transaction() as uow:
        s = uow.session
        agent = s.get(Agent, payload["agent_id"])
        if agent is None or agent.operator_id != actor["operator_id"]:
            raise NotFound("AGENT_NOT_FOUND", "Your workshop has no such agent: register it first.",
                           {"field": "agent_id"})
        busy = s.scalar(select(Session.id).where(Session.agent_id == agent.id, Session.state.in_(domain.LIVE)))
        if busy:
            raise Conflict("AGENT_BUSY", "This agent has a session open already: end it first.",
                           {"session_id": busy})
        session = Session(id=new_id(), operator_id=actor["operator_id"], user_id=actor["user_id"], agent_id=agent.id,
                          vin=vin, state="preflight", preflight={k: False for k in CHECKLIST}, plan=[],
                          created_at=ctx.now, active_seconds=0.0, reserved_seconds=0)
        s.add(session)
        s.flush()
        return view(ctx, s, session)


def _mine(s, actor, session_id, lock=False):
    found = s.get(Session, session_id, with_for_update=lock)
    if found is None or found.operator_id != actor["operator_id"]:
        raise NotFound("SESSION_NOT_FOUND", "Your workshop has no such programming session.", {"field": "session_id"})
    return found


def get_session(ctx, actor, session_id):
    with ctx.store.read() as s:
        return view(ctx, s, _mine(s, actor, session_id))


def sessions(ctx, actor, limit=50):
    """The workshop's sessions, newest first: where a technician finds the one they left."""
    with ctx.store.read() as s:
        found = s.scalars(select(Session).where(Session.operator_id == actor["operator_id"])
                          .order_by(Session.created_at.desc()).limit(limit)).all()
        return {"sessions": [{"id": x.id, "vin": x.vin, "agent_id": x.agent_id, "state": x.state,
                              "created_at": x.created_at, "ended_at": x.ended_at, "outcome": x.outcome,
                              "seconds_billed": x.seconds_billed} for x in found]}


def view(ctx, s, session):
    used = domain.counted(session, ctx.now, ctx.settings.heartbeat_timeout)
    account = s.get(Account, session.operator_id)
    available = 0 if account is None else account.purchased_seconds - account.settled_seconds - account.reserved_seconds
    left = None if session.paid_by == "vin_pass" else max(0, session.reserved_seconds - used) + max(0, available)
    return {"id": session.id, "vin": session.vin, "agent_id": session.agent_id, "state": session.state,
            "preflight": session.preflight, "plan": session.plan, "paid_by": session.paid_by,
            "used_seconds": round(used, 3), "left_seconds": None if left is None else round(left, 3),
            "clock_running": session.state == "running", "in_grace": session.in_grace,
            "created_at": session.created_at, "started_at": session.started_at, "ended_at": session.ended_at,
            "outcome": session.outcome, "failure_side": session.failure_side,
            "seconds_billed": session.seconds_billed, "message": session.message}


def start(ctx, actor, session_id):
    """The clock starts: paid by a VIN pass for the car if there is one, otherwise from programming time,
    reserved a slice at a time."""
    domain.require_step_up(actor, ctx.now)
    with ctx.store.read() as s:
        ready = _mine(s, actor, session_id)
        domain.require_state(ready, "ready", action="starting")
    paid_by = "vin_pass"
    try:
        ctx.claim_vin_session({"operator_id": actor["operator_id"], "vin": ready.vin, "session_id": session_id})
    except PaymentRequired:
        paid_by = "time"
    with ctx.store.transaction() as uow:
        s = uow.session
        session = _mine(s, actor, session_id, lock=True)
        domain.require_state(session, "ready", action="starting")
        if paid_by == "time":
            got = _reserve(s, session.operator_id, ctx.settings.reserve_slice)
            if got == 0:
                raise PaymentRequired("PROGRAMMING_TIME_REQUIRED", "Your workshop has no programming time left: buy "
                                      "a programming pack (prog-30, prog-60, prog-180) or a VIN pass for this car.",
                                      {"tariffs": ["prog-30", "prog-60", "prog-180", "vin-1d"]})
            session.reserved_seconds = got
        session.paid_by, session.state = paid_by, "running"
        session.started_at = session.clock_mark = session.last_heartbeat_at = ctx.now
        uow.emit("SessionStarted", {"session_id": session.id, "operator_id": session.operator_id, "vin": session.vin,
                                    "agent_id": session.agent_id, "started_at": ctx.now}, subject=session.id)
        return view(ctx, s, session)


def _reserve(s, operator_id, seconds):
    """Up to `seconds` of the operator's unreserved time, by a conditional update: two sessions racing for the
    last seconds cannot both have them."""
    account = s.get(Account, operator_id)
    if account is None:
        return 0
    available = account.purchased_seconds - account.settled_seconds - account.reserved_seconds
    take = min(seconds, available)
    if take <= 0:
        return 0
    done = s.execute(update(Account).where(
        Account.operator_id == operator_id,
        Account.purchased_seconds - Account.settled_seconds - Account.reserved_seconds >= take)
        .values(reserved_seconds=Account.reserved_seconds + take)).rowcount
    return take if done else 0


def end(ctx, actor, session_id):
    """The user closes the session: what ran is billed, the rest of the reservation goes back."""
    with ctx.store.transaction() as uow:
        s = uow.session
        session = _mine(s, actor, session_id, lock=True)
        domain.require_state(session, *domain.LIVE, action="ending")
        if session.state in ("running", "interrupted"):
            _accrue(session, ctx.now, ctx.settings)
            done = all(step["status"] == "done" for step in session.plan)
            _settle(uow, session, ctx.now, "completed" if done else "cancelled", "none")
        else:
            session.state, session.outcome, session.ended_at = "ended", "cancelled", ctx.now
        return view(ctx, s, session)


def _accrue(session, now, settings):
    """Count the time since the clock mark, up to now or the last heartbeat's timeout."""
    session.active_seconds = domain.counted(session, now, settings.heartbeat_timeout)
    session.clock_mark = now


def _settle(uow, session, now, outcome, side, expired=False):
    """Close the books of a started session: bill whole seconds used (never more than reserved, nothing for our
    failures or a VIN pass), give back the rest of the reservation, and say so in one event."""
    used = domain.billable(session.active_seconds)
    if session.paid_by == "time":
        used = min(used, session.reserved_seconds)
    charged = 0 if side == "platform" or session.paid_by != "time" else used
    if session.paid_by == "time":
        uow.session.execute(update(Account).where(Account.operator_id == session.operator_id).values(
            reserved_seconds=Account.reserved_seconds - session.reserved_seconds,
            settled_seconds=Account.settled_seconds + charged))
    session.reserved_seconds = 0
    metrics.SECONDS_ACTIVE.inc(session.active_seconds)
    metrics.SECONDS_BILLED.inc(charged)
    session.state = "expired" if expired else "ended"
    session.outcome, session.failure_side, session.ended_at, session.seconds_billed = outcome, side, now, charged
    session.flashing = False
    facts = {"session_id": session.id, "operator_id": session.operator_id, "vin": session.vin, "seconds_used": used}
    if expired:
        session.message = ("Programming session timeout: the paid programming time is used up. Buy a programming "
                           "pack and open a new session to go on.")
        uow.emit("SessionExpired", facts | {"expired_at": now}, subject=session.id)
    else:
        uow.emit("SessionEnded", facts | {"outcome": outcome, "failure_side": side, "ended_at": now},
                 subject=session.id)


# ---- the agent's side -------------------------------------------------------------------------------------------

def _agent_session(s, agent, session_id):
    session = s.get(Session, session_id, with_for_update=True)
    if session is None or session.agent_id != agent.id:
        raise NotFound("SESSION_NOT_FOUND", "This agent has no such session.", {"field": "session_id"})
    return session


def next_job(ctx, credentials):
    """What the agent should do now: read the car (pre-flight), download and verify the plan's files, flash,
    or nothing."""
    with ctx.store.transaction() as uow:
        s = uow.session
        agent = authenticate(s, *credentials)
        _seen(agent, ctx.now)
        session = s.scalar(select(Session).where(Session.agent_id == agent.id, Session.state.in_(domain.LIVE))
                           .order_by(Session.created_at))
        if session is None:
            return {"kind": "none"}
        if not session.preflight["agent_connected"]:
            session.preflight = session.preflight | {"agent_connected": True}
        job = {"session_id": session.id, "vin": session.vin, "next_sequence": _next_sequence(s, session.id)}
        if session.state == "preflight" and not session.preflight["ecus_read"]:
            return job | {"kind": "preflight", "ecus": [e["address"] for e in ctx.describe(session.vin)["ecus"]]}
        if session.state == "preflight" and not session.preflight["binaries_verified"]:
            return job | {"kind": "download", "files": _files(ctx, s, session)}
        if session.state in ("running", "interrupted"):
            return job | {"kind": "flash", "files": _files(ctx, s, session), "plan": session.plan}
        return {"kind": "none", "session_id": session.id, "state": session.state}


def _files(ctx, s, session):
    out = []
    for step in session.plan:
        package = s.get(Package, step["package_id"])
        out.append({"package_id": package.id, "ecu_address": package.ecu_address, "manifest": package.manifest,
                    "signature": package.signature, "size": package.size,
                    "url": ctx.blobs.signed_url(package_key(package.sha256), ctx.settings.link_seconds)})
    return out


def package_key(sha256):
    return f"programming/sha256/{sha256}"


def _next_sequence(s, session_id):
    last = s.scalar(select(Report.sequence).where(Report.session_id == session_id)
                    .order_by(Report.sequence.desc()).limit(1))
    return (last or 0) + 1


def heartbeat(ctx, credentials, session_id, payload):
    """The agent is alive: the clock counts up to now; an interrupted session resumes; more time is reserved
    when the reservation runs low."""
    with ctx.store.transaction() as uow:
        s = uow.session
        agent = authenticate(s, *credentials)
        _seen(agent, ctx.now)
        session = _agent_session(s, agent, session_id)
        if session.state == "interrupted":
            session.state, session.clock_mark, session.interrupted_at = "running", ctx.now, None
        elif session.state == "running":
            _accrue(session, ctx.now, ctx.settings)
        metrics.HEARTBEATS.inc()
        if session.state == "running":
            session.last_heartbeat_at = ctx.now
            if payload.get("progress"):
                _progress(session, payload["progress"])
            _keep_paid(uow, session, ctx)
        return view(ctx, s, session)


def _progress(session, progress):
    session.plan = [step | ({"bytes_done": progress["bytes_done"]} if step["ecu_address"] == progress["ecu_address"]
                            else {}) for step in session.plan]


def _keep_paid(uow, session, ctx):
    """Reserve the next slice before the current one is used up; with none left, a flash in progress finishes
    (grace) and the session then stops; otherwise it stops now."""
    if session.paid_by != "time" or session.state != "running":
        return
    used = domain.counted(session, ctx.now, ctx.settings.heartbeat_timeout)
    if used < session.reserved_seconds - 1:
        return
    more = _reserve(uow.session, session.operator_id, ctx.settings.reserve_slice)
    if more:
        session.reserved_seconds += more
        session.in_grace = False
        return
    if used < session.reserved_seconds:
        return
    if session.flashing:
        if not session.in_grace:
            session.in_grace = True
            session.message = ("Paid programming time is used up; the ECU being written finishes first (at no "
                               "charge), then the session stops. A top-up now lets it go on.")
        return
    _accrue(session, ctx.now, ctx.settings)
    metrics.EXPIRY_LAG.observe(max(0.0, session.active_seconds - session.reserved_seconds))
    session.active_seconds = min(session.active_seconds, session.reserved_seconds)
    _settle(uow, session, ctx.now, "cancelled", "none", expired=True)


def report(ctx, credentials, session_id, payload):
    """One report of the agent, in sequence: a duplicate changes nothing, one out of order is refused."""
    with ctx.store.transaction() as uow:
        s = uow.session
        agent = authenticate(s, *credentials)
        session = _agent_session(s, agent, session_id)
        sequence = payload["sequence"]
        seen = s.scalar(select(Report).where(Report.session_id == session.id, Report.sequence == sequence))
        if seen is not None:
            if seen.body != _comparable(payload):
                raise Conflict("REPORT_SEQUENCE_REUSED", f"Report {sequence} came before with other content.",
                               {"field": "sequence"})
            return view(ctx, s, session) | {"duplicate": True}
        expected = _next_sequence(s, session.id)
        if sequence != expected:
            raise Conflict("REPORT_OUT_OF_ORDER", f"The next report of this session is number {expected}.",
                           {"field": "sequence", "expected": expected})
        s.add(Report(session_id=session.id, sequence=sequence, body=_comparable(payload), received_at=ctx.now))
        {"preflight": _preflight, "files_verified": _verified, "file_rejected": _rejected,
         "flash_started": _flash_started, "flash_completed": _flash_completed,
         "flash_failed": _flash_failed}[payload["kind"]](uow, ctx, session, payload)
        return view(ctx, s, session) | {"duplicate": False}


def _comparable(payload):
    """The report as stored: JSON types only, so a repeat compares equal to what was kept."""
    return json.loads(json.dumps(payload, default=str))


def _preflight(uow, ctx, session, payload):
    domain.require_state(session, "preflight", action="a pre-flight report")
    reading = payload["vehicle"]
    checks = dict(session.preflight, ecus_read=True, battery_ok=reading["voltage_mv"] >= 12200,
                  vin_matches=reading["vin"] == session.vin)
    session.preflight = checks | {"voltage_mv": reading["voltage_mv"], "ecus": reading["ecus"]}
    if not checks["vin_matches"]:
        return _fail_preflight(session, ctx, f"The agent is connected to {reading['vin']}, not {session.vin}.")
    if not checks["battery_ok"]:
        return _fail_preflight(session, ctx, f"Battery at {reading['voltage_mv'] / 1000:.1f} V: connect a charger "
                               "(12.2 V at least) and open the session again.")
    described = ctx.describe(session.vin)
    packages = uow.session.scalars(select(Package).where(Package.series == described["series"])).all()
    session.plan = domain.plan(reading["ecus"], packages)
    session.preflight = session.preflight | {"plan_computed": True}
    if not session.plan:
        session.state, session.outcome, session.ended_at = "ended", "completed", ctx.now
        session.message = "Every ECU runs its target software already: nothing to program."


def _fail_preflight(session, ctx, message):
    session.state, session.outcome, session.ended_at, session.message = "ended", "failed", ctx.now, message
    session.failure_side = "vehicle"


def _verified(uow, ctx, session, payload):
    domain.require_state(session, "preflight", action="verified files")
    if not session.preflight["plan_computed"]:
        raise Conflict("PLAN_NOT_READY", "The plan is not computed yet: report the pre-flight reading first.", {})
    missing = {step["package_id"] for step in session.plan} - set(payload["package_ids"])
    if missing:
        raise invalid_field("FILES_MISSING", "package_ids", "every_file_of_the_plan",
                            f"Verify every file of the plan; missing: {', '.join(sorted(missing))}.")
    session.preflight = session.preflight | {"binaries_verified": True}
    session.state = "ready"


def _rejected(uow, ctx, session, payload):
    """A file of ours failed its check on the agent: nothing touched the car, and it is our failure."""
    session.preflight = session.preflight | {"binaries_verified": False}
    message = f"Flash file {payload['package_id']} failed its {payload['check']} check: nothing was written."
    if session.state in ("running", "interrupted"):
        _accrue(session, ctx.now, ctx.settings)
        session.message = message
        _settle(uow, session, ctx.now, "failed", "platform")
    else:
        session.state, session.outcome, session.failure_side = "ended", "failed", "platform"
        session.ended_at, session.message = ctx.now, message


def _step(session, address, **changes):
    session.plan = [step | changes if step["ecu_address"] == address else step for step in session.plan]


def _flash_started(uow, ctx, session, payload):
    domain.require_state(session, "running", action="flashing")
    session.flashing = True
    _step(session, payload["ecu_address"], status="flashing")


def _flash_completed(uow, ctx, session, payload):
    domain.require_state(session, "running", "interrupted", action="a flash result")
    step = next(s for s in session.plan if s["ecu_address"] == payload["ecu_address"])
    _step(session, payload["ecu_address"], status="done", software_version=payload["software_version"])
    session.flashing = False
    metrics.FLASH_BYTES.inc(step["size"])
    metrics.FLASH_SECONDS.inc(payload["duration_seconds"])
    uow.emit("FlashCompleted", {"session_id": session.id, "operator_id": session.operator_id, "vin": session.vin,
                                "ecu_address": payload["ecu_address"], "software_version": payload["software_version"],
                                "duration_seconds": payload["duration_seconds"]}, subject=session.id)
    _accrue(session, ctx.now, ctx.settings)
    if all(step["status"] == "done" for step in session.plan):
        _settle(uow, session, ctx.now, "completed", "none")
    elif session.in_grace:
        session.active_seconds = min(session.active_seconds, session.reserved_seconds)
        _settle(uow, session, ctx.now, "cancelled", "none", expired=True)


def _flash_failed(uow, ctx, session, payload):
    domain.require_state(session, "running", "interrupted", action="a flash result")
    side = domain.failure_side(payload["cause"])
    metrics.FLASH_FAILURES.labels(payload["cause"], side).inc()
    _step(session, payload["ecu_address"], status="failed", cause=payload["cause"])
    uow.emit("FlashFailed", {"session_id": session.id, "operator_id": session.operator_id, "vin": session.vin,
                             "ecu_address": payload["ecu_address"], "cause": payload["cause"], "failure_side": side},
             subject=session.id)
    _accrue(session, ctx.now, ctx.settings)
    session.message = (f"ECU {payload['ecu_address']}: {payload.get('detail') or payload['cause']}. "
                       + ("The failure was ours: this session is not charged." if side == "platform" else
                          "The ECU can be programmed again in a new session."))
    _settle(uow, session, ctx.now, "failed", side)


def security_key(ctx, credentials, session_id, payload):
    """The key for an ECU's seed, for the agent of a running session only: the secret never leaves AOS."""
    with ctx.store.read() as s:
        agent = authenticate(s, *credentials)
        session = s.get(Session, session_id)
        if session is None or session.agent_id != agent.id:
            raise NotFound("SESSION_NOT_FOUND", "This agent has no such session.", {"field": "session_id"})
        domain.require_state(session, "running", action="a security key")
    seed = bytes.fromhex(payload["seed"])
    return {"key": hmac.new(ctx.ecu_secret, seed, hashlib.sha256).digest()[:4].hex()}


# ---- the timer --------------------------------------------------------------------------------------------------

def watch_clocks(ctx):
    """Silence interrupts a running session (its clock stops at the last heartbeat); an interruption past the
    resume limit ends it; paid time running out expires it (after the flash in progress). One read finds the
    sessions that need any of it; only those get a transaction."""
    silent_since = ctx.now - timedelta(seconds=ctx.settings.heartbeat_timeout)
    given_up = ctx.now - timedelta(seconds=ctx.settings.resume_limit)
    with ctx.store.read() as s:
        live = s.scalars(select(Session).where(Session.state.in_(("running", "interrupted")))).all()
        due = [x.id for x in live if _due(x, ctx, silent_since, given_up)]
        by_state = dict(s.execute(select(Session.state, func.count()).where(Session.state.in_(domain.LIVE))
                                  .group_by(Session.state)).all())
    for state in domain.LIVE:
        metrics.SESSIONS.labels(state).set(by_state.get(state, 0))
    for session_id in due:
        _watch(ctx, session_id, silent_since, given_up)
    return len(due)


def _watch(ctx, session_id, silent_since, given_up):
    with ctx.store.transaction() as uow:
        session = uow.session.get(Session, session_id, with_for_update=True)
        if session.state == "running" and session.last_heartbeat_at <= silent_since:
            session.clock_mark = None  # counted up to the last heartbeat: the silence is not billed
            session.state, session.interrupted_at = "interrupted", ctx.now
        elif session.state == "interrupted" and session.interrupted_at <= given_up:
            session.message = "The agent stayed silent past the resume limit: the session ended."
            _settle(uow, session, ctx.now, "failed", "vehicle")
        elif session.state == "running":
            _keep_paid(uow, session, ctx)


def _due(session, ctx, silent_since, given_up):
    if session.state == "interrupted":
        return session.interrupted_at <= given_up
    if session.last_heartbeat_at <= silent_since:
        return True
    return session.paid_by == "time" and (
        domain.counted(session, ctx.now, ctx.settings.heartbeat_timeout) >= session.reserved_seconds - 1)


# ---- billing's facts ---------------------------------------------------------------------------------------------

def record_purchase(uow, data):
    if "programming" not in data["scopes"] or not data.get("seconds"):
        return
    s = uow.session
    if s.get(Account, data["operator_id"]) is None:
        s.add(Account(operator_id=data["operator_id"], purchased_seconds=0, settled_seconds=0, reserved_seconds=0))
        s.flush()
    s.execute(update(Account).where(Account.operator_id == data["operator_id"])
              .values(purchased_seconds=Account.purchased_seconds + data["seconds"]))
