"""What programming does, step by step, each inside one unit of work: load the session, let
domain.ProgrammingSession decide, store it, emit the facts it returned. Agents, sessions, the agent's jobs and
reports, security keys, the timer, and billing's programming time."""
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from contextlib import contextmanager
from typing import NamedTuple
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer

from services.programming import domain, metrics
from automotive.manifest import NotGenuine, load_public, verify
from automotive.security import immobiliser, is_secure_gateway, is_theft_relevant
from services.programming.models import (Account, Agent, AgentTask, Claim, IssuedKey, JobCard, Package, Report,
                                         SecurityJob, Session, UnlockToken)
from services.programming.settings import ProgrammingSettings
from services.shared.database import new_id
from services.shared.blobs import BlobMissing
from services.shared.facts import Fact, publish
from services.shared.errors import (Conflict, Forbidden, InvalidInput, NotFound, PaymentRequired, Unauthenticated,
                                    invalid_field)


@dataclass
class Context:
    store: object
    now: datetime
    settings: ProgrammingSettings
    blobs: object = None
    describe: object = None  # vin -> vehicle data's description
    claim_vin_session: object = None  # billing's RPC
    offer: object = None  # scope -> the tariff codes that open it (billing's, cached)
    keys: object = None  # the KeyStore: security keys by ECU type
    sermi_check: object = None  # identity's: the actor is a SERMI-authorised technician now (raises if not)
    me: object = None  # identity's: the actor's user and workshop
    search: object = None  # AIR's search, with the actor's access
    document: object = None  # AIR's document, with the actor's access
    add_record: object = None  # vehicle data's: a service record, by the actor
    quote: object = None  # the parts catalogue's: parts at the actor's workshop's prices
    replace_ecu: object = None  # vehicle data's: the registry records a unit a workshop fitted
    next_run: object = None  # job_cards.next_run: the agent's next diagnosis run

    @property
    def rules(self):
        return self.settings.clock

    def manufacturer_key(self):
        """The manufacturer's public key the catalogue was imported with, read when a claim needs it."""
        return load_public(self.settings.manufacturer_key_file.read_text())


class AccountTime(domain.ProgrammingTime):
    """The workshop's programming seconds in this service's Account table (or its remote-diagnosis seconds, in
    DiagnosisAccount: the same bookkeeping)."""

    def __init__(self, s, operator_id, model=Account, held=None):
        self.s, self.operator_id, self.model = s, operator_id, model
        # the account row if the caller read it already: the unit of work keeps an unchanged row only while
        # somebody refers to it, and one it has let go is read again, with a flush before it
        self.held = held

    @staticmethod
    def credit(s, operator_id, seconds, model=Account):
        """Seconds bought (billing's AccessPurchased)."""
        if s.get(model, operator_id) is None:
            s.add(model(operator_id=operator_id, purchased_seconds=0, settled_seconds=0, reserved_seconds=0))
            s.flush()
        s.execute(update(model).where(model.operator_id == operator_id)
                  .values(purchased_seconds=model.purchased_seconds + seconds))

    def available(self):
        account = self.s.get(self.model, self.operator_id)
        return 0 if account is None else account.purchased_seconds - account.settled_seconds - account.reserved_seconds

    def reserve(self, seconds):
        """By a conditional update: two sessions racing for the last seconds cannot both have them."""
        take = min(seconds, self.available())
        if take <= 0:
            return 0
        model = self.model
        done = self.s.execute(update(model).where(
            model.operator_id == self.operator_id,
            model.purchased_seconds - model.settled_seconds - model.reserved_seconds >= take)
            .values(reserved_seconds=model.reserved_seconds + take)).rowcount
        return take if done else 0

    def settle(self, released, charged):
        model = self.model
        self.s.execute(update(model).where(model.operator_id == self.operator_id).values(
            reserved_seconds=model.reserved_seconds - released, settled_seconds=model.settled_seconds + charged))


def _publish(uow, session, facts):
    publish(uow, facts, subject=session.id)
    uow.after_commit(lambda: metrics.count(facts))


def _digest(credential):
    return hashlib.sha256(credential.encode()).hexdigest()


# ---- agents -------------------------------------------------------------------------------------------------------

def register_agent(ctx, actor, payload):
    credential = secrets.token_urlsafe(32)
    agent = Agent(id=new_id(), operator_id=actor["operator_id"], name=payload["name"],
                  credential_sha256=_digest(credential), registered_at=ctx.now)
    with ctx.store.transaction() as uow:
        uow.session.add(agent)
        _agent_changed(uow, actor, agent, "registered", ctx.now)
    return _agent_view(agent, ctx.now) | {"credential": credential}


def _agent_changed(uow, actor, agent, change, now):
    """For the audit trail: who registered, renewed or revoked which agent."""
    uow.emit("AgentChanged", {"operator_id": agent.operator_id, "user_id": actor["user_id"], "agent_id": agent.id,
                              "agent_name": agent.name, "change": change, "changed_at": now}, subject=agent.id)


def agents(ctx, actor):
    with ctx.store.read() as s:
        found = s.scalars(select(Agent).where(Agent.operator_id == actor["operator_id"])
                          .order_by(Agent.registered_at)).all()
        return {"agents": [_agent_view(a, ctx.now) for a in found]}


def _agent_view(agent, now):
    return {"id": agent.id, "name": agent.name, "registered_at": agent.registered_at,
            "last_seen_at": agent.last_seen_at, "revoked_at": agent.revoked_at,
            "online": agent.revoked_at is None and domain.agent_online(agent.last_seen_at, now)}


def _workshops_agent(s, actor, agent_id, lock=False):
    agent = s.get(Agent, agent_id, with_for_update=lock)
    if agent is None or agent.operator_id != actor["operator_id"]:
        raise NotFound("AGENT_NOT_FOUND", "Your workshop has no such agent.", {"field": "agent_id"})
    return agent


def rename_agent(ctx, actor, agent_id, payload):
    domain.require_agent_keeper(actor)
    with ctx.store.transaction() as uow:
        agent = _workshops_agent(uow.session, actor, agent_id)
        agent.name = payload["name"]
        return _agent_view(agent, ctx.now)


def renew_credential(ctx, actor, agent_id):
    """A new credential, shown once; the old one is refused from now on."""
    domain.require_agent_keeper(actor)
    credential = secrets.token_urlsafe(32)
    with ctx.store.transaction() as uow:
        agent = _workshops_agent(uow.session, actor, agent_id, lock=True)
        _usable(agent)
        agent.credential_sha256 = _digest(credential)
        _agent_changed(uow, actor, agent, "credential_renewed", ctx.now)
        return _agent_view(agent, ctx.now) | {"credential": credential}


def revoke_agent(ctx, actor, agent_id):
    """The agent is refused at once; a session it runs stops its clock."""
    domain.require_agent_keeper(actor)
    with ctx.store.transaction() as uow:
        s = uow.session
        agent = _workshops_agent(s, actor, agent_id, lock=True)
        if agent.revoked_at is None:
            agent.revoked_at = ctx.now
            _agent_changed(uow, actor, agent, "revoked", ctx.now)
            for session in s.scalars(select(Session).where(Session.agent_id == agent.id,
                                                           Session.state.in_(domain.LIVE)).with_for_update()).all():
                _publish(uow, session, session.agent_revoked(ctx.now, ctx.rules))
        return _agent_view(agent, ctx.now)


def _usable(agent):
    if agent.revoked_at is not None:
        raise Conflict("AGENT_REVOKED", "This agent was revoked; register a new one.", {"field": "agent_id"})


def _seen(agent, now):
    if domain.agent_seen_due(agent.last_seen_at, now):
        agent.last_seen_at = now


def authenticate(session, agent_id, credential):
    return _checked(session.get(Agent, agent_id) if agent_id else None, credential)


def _checked(agent, credential):
    if agent is None or not hmac.compare_digest(agent.credential_sha256, _digest(credential or "")):
        raise Unauthenticated("AGENT_CREDENTIAL_INVALID", "Unknown agent or wrong credential: register the agent "
                              "again and use the credential shown then.")
    if agent.revoked_at is not None:
        raise Unauthenticated("AGENT_REVOKED", "This agent was revoked by its workshop.")
    return agent


# ---- sessions -------------------------------------------------------------------------------------------------

def open_session(ctx, actor, payload):
    vin = payload["vin"].upper()
    ctx.describe(vin)  # 404 for a car the registry does not know, 422 for a malformed VIN
    with ctx.store.transaction() as uow:
        s = uow.session
        agent = _workshops_agent(s, actor, payload["agent_id"])
        _usable(agent)
        busy = s.scalar(select(Session.id).where(Session.agent_id == agent.id, Session.state.in_(domain.LIVE)))
        if busy:
            raise Conflict("AGENT_BUSY", "This agent has a session open already: end it first.",
                           {"session_id": busy})
        session = Session.open(new_id(), actor["operator_id"], actor["user_id"], agent.id, vin, ctx.now)
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
        return {"sessions": found}


def clock(ctx, s, session, time=None):
    """The session's clock: all a heartbeat answers (an agent sends one every 2 s and reads the state)."""
    used = session.counted(ctx.now, ctx.rules)
    left = session.left(ctx.now, ctx.rules, (time or AccountTime(s, session.operator_id)).available())
    return {"id": session.id, "state": session.state, "used_seconds": round(used, 3),
            "left_seconds": None if left is None else round(left, 3), "clock_running": session.state == "running",
            "in_grace": session.in_grace, "message": session.message}


def view(ctx, s, session):
    return clock(ctx, s, session) | {
        "vin": session.vin, "agent_id": session.agent_id, "preflight": session.preflight, "plan": session.plan,
        "paid_by": session.paid_by, "created_at": session.created_at, "started_at": session.started_at,
        "ended_at": session.ended_at, "outcome": session.outcome, "failure_side": session.failure_side,
        "seconds_billed": session.seconds_billed}


def start(ctx, actor, session_id):
    """Paid by a VIN pass for the car if there is one, otherwise from programming time."""
    domain.require_step_up(actor, ctx.now)
    with ctx.store.read() as s:
        ready = _mine(s, actor, session_id)
        ready.require("ready", action="starting")
    paid_by = "vin_pass"
    try:
        ctx.claim_vin_session({"operator_id": actor["operator_id"], "vin": ready.vin, "session_id": session_id})
    except PaymentRequired:
        paid_by = "time"
    with ctx.store.transaction() as uow:
        s = uow.session
        session = _mine(s, actor, session_id, lock=True)
        try:
            facts = session.start(paid_by, AccountTime(s, session.operator_id), ctx.now, ctx.rules,
                                  open_security_job_on(s, session, ctx.now))
        except PaymentRequired as refused:
            raise PaymentRequired(refused.code, refused.message, refused.details | {"tariffs": ctx.offer("programming")})
        _publish(uow, session, facts)
        return view(ctx, s, session)


def end(ctx, actor, session_id):
    with ctx.store.transaction() as uow:
        s = uow.session
        session = _mine(s, actor, session_id, lock=True)
        _publish(uow, session, session.end(ctx.now, ctx.rules, AccountTime(s, session.operator_id)))
        return view(ctx, s, session)


# ---- the agent's side -------------------------------------------------------------------------------------------

def _agent_session(s, agent, session_id, lock=True, lean=False):
    """`lean`: without the checklist and plan (JSON), for a heartbeat without progress, which never reads them."""
    session = s.get(Session, session_id, with_for_update=lock,
                    options=(defer(Session.preflight), defer(Session.plan)) if lean else None)
    if session is None or session.agent_id != agent.id:
        raise NotFound("SESSION_NOT_FOUND", "This agent has no such session.", {"field": "session_id"})
    return session


def next_job(ctx, credentials):
    with ctx.store.transaction() as uow:
        s = uow.session
        agent = authenticate(s, *credentials)
        _seen(agent, ctx.now)
        waiting = s.scalar(select(AgentTask).where(AgentTask.agent_id == agent.id,
                                                   AgentTask.state.in_(("queued", "running")))
                           .order_by(AgentTask.created_at))
        if waiting is not None:  # security work at the car waits for no programming session
            waiting.state = "running"
            return {"kind": waiting.kind, "session_id": waiting.id, "task_id": waiting.id, "next_sequence": 1,
                    "vin": waiting.vin, "ecu_address": waiting.ecu_address, "slot": waiting.slot,
                    "key_id": waiting.key_id}
        diagnosis = ctx.next_run(s, agent, ctx.now) if ctx.next_run else None
        if diagnosis is not None:
            return diagnosis
        session = s.scalar(select(Session).where(Session.agent_id == agent.id, Session.state.in_(domain.LIVE))
                           .order_by(Session.created_at))
        if session is None:
            return {"kind": "none"}
        session.agent_connected()
        job = {"session_id": session.id, "vin": session.vin, "next_sequence": _next_sequence(s, session.id)}
        kind = session.next_job()
        if kind == "preflight":
            return job | {"kind": kind, "ecus": [e["address"] for e in ctx.describe(session.vin)["ecus"]]}
        if kind == "download":
            return job | {"kind": kind, "files": _files(ctx, s, session)}
        if kind == "flash":
            return job | {"kind": kind, "files": _files(ctx, s, session), "plan": session.plan}
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


def _beating(s, credentials, session_id, lean):
    """The agent, its session (locked) and the workshop's programming account in one read: every row a heartbeat
    touches (the account for AccountTime to hold). Unknown agent or session: the checks one by one, for the error
    that names which."""
    agent_id, credential = credentials
    if agent_id and isinstance(session_id, str):
        query = (select(Agent, Session, Account).join(Session, Session.agent_id == Agent.id)
                 .outerjoin(Account, Account.operator_id == Session.operator_id)
                 .where(Agent.id == agent_id, Session.id == session_id).with_for_update(of=Session))
        found = s.execute(query.options(defer(Session.preflight), defer(Session.plan)) if lean else query).first()
        if found is not None:
            return _checked(found.Agent, credential), found.Session, found.Account
    agent = authenticate(s, agent_id, credential)
    return agent, _agent_session(s, agent, session_id, lean=lean), None


def heartbeat(ctx, credentials, session_id, payload):
    with ctx.store.transaction() as uow:
        s = uow.session
        agent, session, account = _beating(s, credentials, session_id, lean=not payload.get("progress"))
        _seen(agent, ctx.now)
        metrics.HEARTBEATS.inc()
        time = AccountTime(s, session.operator_id, held=account)
        _publish(uow, session, session.heartbeat(ctx.now, ctx.rules, time, payload.get("progress")))
        return clock(ctx, s, session, time)


def report(ctx, credentials, session_id, payload):
    """One report of the agent, in sequence: a duplicate changes nothing, one out of order is refused. A claim
    that a file of ours failed a check is checked against the stored file first (_check_claim). A report the
    server refuses ends the session (final)."""
    finding = _check_claim(ctx, credentials, session_id, payload)
    with final(ctx, credentials, session_id, "report", payload.get("ecu_address")):
        return _report(ctx, credentials, session_id, payload, finding)


def _report(ctx, credentials, session_id, payload, finding):
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
        facts = _apply_report(ctx, s, session, payload, finding)
        if finding is not None:
            facts += _record_claim(ctx, s, agent, session, finding)
            uow.after_commit(lambda: metrics.CLAIMS.labels("confirmed" if finding.found else "refuted").inc())
        _publish(uow, session, facts)
        return view(ctx, s, session) | {"duplicate": False}


class Finding(NamedTuple):
    """An agent's claim that a file of ours failed `claimed`, and the check the stored file fails (`found`, None
    when it is intact)."""
    package: Package
    claimed: str
    found: str | None


def _check_claim(ctx, credentials, session_id, p):
    """The Finding for a report claiming a failure of our file, else None. The server reads the stored object
    and verifies it against the catalogue's signed manifest itself: the agent runs on the workshop's PC, so its
    word alone decides nothing about who pays."""
    with ctx.store.read() as s:
        session = _agent_session(s, authenticate(s, *credentials), session_id, lock=False)
        package_id = session.claimed_package(p)
        package = s.get(Package, package_id) if package_id else None
    if package is None:
        return None  # not a claim, or a file not in the plan (the session refuses it by name)
    return Finding(package, p.get("check") or p["cause"], _stored_file_fails(ctx, package))


def _stored_file_fails(ctx, package):
    """The check the stored file of `package` fails (download, signature, size, sha256), or None."""
    try:
        image = ctx.blobs.get(package_key(package.sha256))
    except BlobMissing:
        return "download"
    try:
        verify(ctx.manufacturer_key(), package.manifest, package.signature, image)
    except NotGenuine as bad:
        return bad.what
    return None


def _record_claim(ctx, s, agent, session, finding):
    """The claim and what was found; a bad file of ours is withdrawn at once, for every workshop."""
    package, claimed, found = finding.package, finding.claimed, finding.found
    s.add(Claim(session_id=session.id, agent_id=agent.id, operator_id=session.operator_id, package_id=package.id,
                claimed=claimed, found=found, confirmed=found is not None, claimed_at=ctx.now))
    facts = []
    stored = s.get(Package, package.id, with_for_update=True)
    if found and stored.withdrawn_at is None:
        stored.withdrawn_at, stored.withdrawn_because = ctx.now, found
        facts.append(Fact("PackageWithdrawn", {"package_id": stored.id, "ecu_address": stored.ecu_address,
                                               "software_version": stored.software_version, "check": found,
                                               "session_id": session.id, "withdrawn_at": ctx.now}))
    return facts


def _apply_report(ctx, s, session, p, finding=None):
    time, now, rules = AccountTime(s, session.operator_id), ctx.now, ctx.rules
    kind = p["kind"]
    if kind == "preflight":
        car = ctx.describe(session.vin)
        if session.read_vehicle(p["vehicle"], car["ecus"], now):
            on_offer = select(Package).where(Package.series == car["series"], Package.withdrawn_at.is_(None))
            session.plan_with(s.scalars(on_offer).all(), open_security_job_on(s, session, now), now)
        return []
    if kind == "files_verified":
        return session.files_verified(p["package_ids"])
    # a report of the flash is the agent alive, as a heartbeat is: an interrupted session resumes first (a restarted
    # agent's first report may beat its heartbeat through a busy timer)
    resumed = session.heartbeat(now, rules, time) if session.state == "interrupted" else []
    confirmed = finding is not None and finding.found is not None
    if kind == "file_rejected":
        return resumed + session.file_rejected(p["package_id"], p["check"], confirmed, now, rules, time)
    if kind == "flash_started":
        return resumed + session.flash_started(p["ecu_address"])
    if kind == "flash_completed":
        return resumed + session.flash_completed(p["ecu_address"], p["software_version"], p["duration_seconds"], now,
                                                 rules, time)
    return resumed + session.flash_failed(p["ecu_address"], p["cause"], p.get("detail"), confirmed, now, rules, time)


def _comparable(payload):
    """The report as stored: JSON types only, so a repeat compares equal to what was kept."""
    return json.loads(json.dumps(payload, default=str))


def security_key(ctx, credentials, session_id, payload):
    """The key for an ECU's seed, for the agent of a running session and a step of its plan only, by the ECU's
    type as the registry records it (checked against the ECU's own answer at pre-flight), from the key store
    (whose secrets never leave it); each key answered is recorded, with the ECU it was for. A theft-relevant ECU
    (engine control, immobiliser, steering lock) is in a plan only with a SERMI security job, bound at start.
    A key asked for while the session is interrupted resumes it, as a heartbeat would. A refusal ends the session
    (final): ours (nothing charged) when the server refused a step of its own plan."""
    address = payload["ecu_address"]
    with final(ctx, credentials, session_id, "security_key", address):
        with ctx.store.transaction() as uow:
            s = uow.session
            agent = authenticate(s, *credentials)
            session = _agent_session(s, agent, session_id)
            time = AccountTime(s, session.operator_id)
            if session.state == "interrupted":
                _publish(uow, session, session.heartbeat(ctx.now, ctx.rules, time))
            ecu_type = session.key_type(address)
            ecu = session.ecu(address)
            s.add(IssuedKey(session_id=session.id, agent_id=agent.id, operator_id=session.operator_id,
                            vin=session.vin, ecu_address=address, ecu_type=ecu_type, seed=payload["seed"],
                            issued_at=ctx.now))
            key = ctx.keys.security_key(ecu_type, bytes.fromhex(payload["seed"]))
            uow.emit("SecurityKeyIssued", {"session_id": session.id, "operator_id": session.operator_id,
                                           "vin": session.vin, "ecu_address": address, "ecu_type": ecu_type,
                                           "ecu_name": ecu.get("name"), "issued_at": ctx.now}, subject=session.vin)
    metrics.KEYS_ISSUED.inc()
    return {"key": key.hex()}


def open_security_job_on(s, session, now):
    """The id of a SERMI security job open now on the session's car by its workshop (the newest), or None."""
    return s.scalar(select(SecurityJob.id).where(SecurityJob.operator_id == session.operator_id,
                                                 SecurityJob.vin == session.vin, SecurityJob.expires_at > now)
                    .order_by(SecurityJob.expires_at.desc()).limit(1))


FINAL = (Conflict, Forbidden, InvalidInput)  # what the server refuses an agent's step with (not who it is)


@contextmanager
def final(ctx, credentials, session_id, request, ecu_address=None):
    """A refusal of the agent's step is final: the session ends with it in words (a transaction of its own, as
    the refused one rolled back), the trail records it, and the agent is told it is final. So an agent cannot
    loop on a refused request: there is no live session left to ask for. Ours when the server refused a step of
    the plan it made (SECURITY_JOB_REQUIRED for a step it planned): nothing is charged."""
    try:
        yield
    except FINAL as refused:
        with ctx.store.transaction() as uow:
            s = uow.session
            agent = authenticate(s, *credentials)
            session = _agent_session(s, agent, session_id)
            side = "platform" if refused.code == "SECURITY_JOB_REQUIRED" else "vehicle"
            live = session.state in domain.LIVE
            facts = session.refused(refused.message, side, ctx.now, ctx.rules, AccountTime(s, session.operator_id))
            if live:
                facts.insert(0, Fact("AgentRefused", {
                    "session_id": session.id, "operator_id": session.operator_id, "vin": session.vin,
                    "agent_id": agent.id, "request": request, "ecu_address": ecu_address, "reason": refused.code,
                    "failure_side": side, "refused_at": ctx.now}))
            _publish(uow, session, facts)
        raise type(refused)(refused.code, refused.message, refused.details | {"final": True}) from None


# ---- the timer --------------------------------------------------------------------------------------------------

def watch_clocks(ctx):
    """One read finds the sessions the timer must look at; only those get a transaction."""
    with ctx.store.read() as s:
        # without the agent's checklist and plan: JSON the clock never reads
        live = looked_at(s, Session, domain.ProgrammingSession, Session.state.in_(domain.CLOCKED),
                         skip=("preflight", "plan"))
        accounts = dict(s.execute(select(Account.operator_id, Account.purchased_seconds - Account.settled_seconds
                                         - Account.reserved_seconds)
                                  .where(Account.operator_id.in_(sorted({x.operator_id for x in live})))).all()) if live else {}
        due = [x.id for x in live if x.due(ctx.now, ctx.rules, accounts.get(x.operator_id, 0))]
        by_state = dict(s.execute(select(Session.state, func.count()).where(Session.state.in_(domain.LIVE))
                                  .group_by(Session.state)).all())
    metrics.by_state(by_state)
    return watch_each(ctx, Session, due)


def looked_at(s, model, rules, where, skip=()):
    """The rows the timer reads four times a second, as plain objects of their rules' class (domain's), read as
    plain rows: loading 320 live sessions as mapped objects every tick was an eighth of programming's CPU with 320
    sessions heartbeating. `skip`: columns the rules never read."""
    columns = [c for c in model.__table__.c if c.key not in skip]
    return [rules(**row._mapping) for row in s.connection().execute(select(*columns).where(where))]


# rows locked and settled in one transaction: few commits for a mass expiry, yet short enough that the heartbeats
# waiting for the database (SQLite's one connection, PostgreSQL's row locks) get in between
WATCHED_TOGETHER = 50


def watch_each(ctx, model, ids, account_model=Account):
    """The rows the timer found due, together in one transaction (one commit, their facts in one insert: 300
    sessions whose paid time ends in the same second are settled in one go, not one commit after another), each
    told its workshop's paid time in `account_model`, settled together (SettledTogether). Every row is locked
    first, in the order of their ids, before any account is touched: a heartbeat locks its session before its
    account, so the two cannot deadlock."""
    for start in range(0, len(ids), WATCHED_TOGETHER):
        with ctx.store.transaction() as uow:
            s = uow.session
            rows = s.scalars(select(model).where(model.id.in_(ids[start:start + WATCHED_TOGETHER]))
                             .order_by(model.id).with_for_update()).all()
            operators = {row.operator_id for row in rows}
            accounts = {a.operator_id: a for a in s.scalars(  # the workshops' accounts in one read, not one each
                select(account_model).where(account_model.operator_id.in_(sorted(operators))))}
            times = {op: domain.SettledTogether(AccountTime(s, op, account_model, accounts.get(op)))
                     for op in operators}
            for row in rows:
                _publish(uow, row, row.watch(ctx.now, ctx.rules, times[row.operator_id]))
            for time in times.values():
                time.write()
    return len(ids)


# ---- identity's facts --------------------------------------------------------------------------------------------

def user_deactivated(ctx, uow, user_id):
    """The live sessions a deactivated user opened stop now: their agents are told at their next heartbeat, the
    clock stops at this moment (ProgrammingSession.stopped)."""
    s = uow.session
    for session in s.scalars(select(Session).where(Session.user_id == user_id, Session.state.in_(domain.LIVE))
                             .order_by(Session.id).with_for_update()).all():
        _publish(uow, session, session.stopped(domain.DEACTIVATED, ctx.now, ctx.rules,
                                               AccountTime(s, session.operator_id)))


# ---- billing's facts ---------------------------------------------------------------------------------------------

def record_purchase(uow, data):
    if "programming" in data["scopes"] and data.get("seconds"):
        AccountTime.credit(uow.session, data["operator_id"], data["seconds"])


# ---- security-related work (SERMI) --------------------------------------------------------------------------------

UNLOCK_SECONDS = 600  # as long as a gateway's challenge lives


def open_security_job(ctx, actor, payload):
    """Security-related work on one car: the technician a SERMI-authorised one now (identity asks the trust
    centre), the car in the registry, the owner's identity recorded first. Open while the sign-in there is fresh."""
    sermi = ctx.sermi_check(actor)
    ctx.describe(payload["vin"])  # the manufacturer's registry knows the car (404 otherwise)
    salt = secrets.token_hex(16)
    with ctx.store.transaction() as uow:
        job = SecurityJob(id=new_id(), operator_id=actor["operator_id"], user_id=actor["user_id"],
                          vin=payload["vin"], owner_name=payload["owner_name"],
                          owner_document_hash=domain.document_hash(salt, payload["owner_document_number"]),
                          owner_document_salt=salt, authorisation_id=sermi["authorisation_id"], opened_at=ctx.now,
                          expires_at=datetime.fromisoformat(sermi["fresh_until"]))
        uow.session.add(job)
        uow.emit("SecurityJobOpened", {"job_id": job.id, "operator_id": job.operator_id, "user_id": job.user_id,
                                       "vin": job.vin, "authorisation_id": job.authorisation_id,
                                       "owner_name": job.owner_name, "opened_at": ctx.now}, subject=job.vin)
        return _job_view(job, ctx.now)


def security_jobs(ctx, actor):
    with ctx.store.read() as s:
        found = s.scalars(select(SecurityJob).where(SecurityJob.operator_id == actor["operator_id"])
                          .order_by(SecurityJob.opened_at.desc()).limit(50)).all()
        return {"jobs": [_job_view(j, ctx.now) for j in found]}


def gateway_unlock(ctx, actor, job_id, payload):
    """A one-time token for the car's secure gateway, for the challenge it showed (typed in by the technician): in
    an open security job of this technician, for a gateway of that car, once per challenge, the technician still
    authorised at this moment."""
    job = _own_open_job(ctx, actor, job_id)
    ecu = _gateway(ctx, job, payload["ecu_address"])
    return _unlock_token(ctx, job, ecu, payload["challenge"])


def _gateway(ctx, job, address):
    ecu = next((e for e in ctx.describe(job.vin)["ecus"] if e["address"] == address), None)
    if ecu is None or not is_secure_gateway(ecu["name"]):
        _refused(ctx, job, invalid_field("NOT_A_SECURE_GATEWAY", "ecu_address", "secure_gateway",
                                         f"{address} is not this car's secure gateway."))
    return ecu


def _unlock_token(ctx, job, ecu, challenge):
    """The token, recorded once per challenge of this car's gateway (a second ask for it is refused)."""
    token = ctx.keys.unlock_token(ecu["hardware_part_number"], job.vin, bytes.fromhex(challenge))
    expires = ctx.now + timedelta(seconds=UNLOCK_SECONDS)
    try:
        with ctx.store.transaction() as uow:
            uow.session.add(UnlockToken(id=new_id(), job_id=job.id, vin=job.vin, ecu_address=ecu["address"],
                                        challenge=challenge, issued_at=ctx.now, expires_at=expires))
            uow.session.flush()
            uow.emit("GatewayUnlockIssued", {"job_id": job.id, "operator_id": job.operator_id, "user_id": job.user_id,
                                             "vin": job.vin, "ecu_address": ecu["address"],
                                             "issued_at": ctx.now}, subject=job.vin)
    except IntegrityError:
        _refused(ctx, job, Conflict("CHALLENGE_ANSWERED", "A token for this challenge was issued already: ask the "
                                    "gateway for a new challenge.", {"field": "challenge"}))
    return {"token": token.hex(), "ecu_address": ecu["address"], "expires_at": expires}


def _own_open_job(ctx, actor, job_id):
    with ctx.store.read() as s:
        job = s.get(SecurityJob, job_id)
    if job is None or job.operator_id != actor["operator_id"] or job.user_id != actor["user_id"]:
        raise NotFound("SECURITY_JOB_NOT_FOUND", "You have no such security job.", {"field": "job_id"})
    if ctx.now >= job.expires_at:
        _refused(ctx, job, Conflict("SECURITY_JOB_EXPIRED", "This security job closed with your sign-in at the "
                                    "trust centre: sign in there again and open a new one.", {"field": "job_id"}))
    ctx.sermi_check(actor)  # revoked meanwhile, or stale: refused now, not at the job's end
    return job


def _refused(ctx, job, error):
    """A refused step of security-related work: recorded for the trail in a transaction of its own, then raised."""
    with ctx.store.transaction() as uow:
        _refusal_recorded(uow, job, error.code, ctx.now)
    raise error


def program_key(ctx, actor, job_id, payload):
    """A key for the car's immobiliser, programmed by the workshop's agent at the car: queued for that agent,
    which takes it with its next job, asks for the immobiliser's security key (for this task only) and reports."""
    job = _own_open_job(ctx, actor, job_id)
    ecu = immobiliser(ctx.describe(job.vin)["ecus"])
    if ecu is None:
        _refused(ctx, job, Conflict("NO_IMMOBILISER", "The registry knows no immobiliser in this car.",
                                    {"field": "job_id"}))
    return _queue(ctx, actor, job, "program_key", ecu, slot=payload["slot"], key_id=payload["key_id"],
                  agent_id=payload["agent_id"])


def pair_unit(ctx, actor, job_id, payload):
    """A theft-relevant replacement (engine control, immobiliser, steering lock) paired with the car by the
    workshop's agent, inside this SERMI security job only: the unit's challenge read, the pairing token from the key
    store asked for this task, written."""
    job = _own_open_job(ctx, actor, job_id)
    ecu = next((e for e in ctx.describe(job.vin)["ecus"] if e["address"] == payload["ecu_address"]), None)
    if ecu is None or not is_theft_relevant(ecu["name"]):
        _refused(ctx, job, invalid_field("NOT_A_THEFT_RELEVANT_UNIT", "ecu_address", "a_theft_relevant_unit",
                                         "The registry knows no theft-relevant unit at this address in the car: only "
                                         "engine control, the immobiliser and the steering lock are paired."))
    return _queue(ctx, actor, job, "pair_ecu", ecu, agent_id=payload["agent_id"])


def task_pairing_token(ctx, credentials, task_id, payload):
    """The pairing token for the challenge the agent read from the unit, in a running pairing task; recorded as
    every key is (the task is believed done only with it)."""
    with final_task(ctx, credentials, task_id):
        with ctx.store.transaction() as uow:
            agent, found, job = _agents_running_task(uow.session, credentials, task_id, "pair_ecu", ctx.now)
            uow.session.add(IssuedKey(session_id=found.id, agent_id=agent.id, operator_id=job.operator_id,
                                      vin=found.vin, ecu_address=found.ecu_address, ecu_type=found.ecu_type,
                                      seed=payload["challenge"], issued_at=ctx.now))
            token = ctx.keys.pairing_token(found.ecu_type, found.vin, bytes.fromhex(payload["challenge"]))
            uow.emit("SecurityKeyIssued", {"session_id": found.id, "operator_id": job.operator_id, "vin": found.vin,
                                           "ecu_address": found.ecu_address, "ecu_type": found.ecu_type,
                                           "issued_at": ctx.now}, subject=found.vin)
    metrics.KEYS_ISSUED.inc()
    return {"token": token.hex()}


def unlock_by_agent(ctx, actor, job_id, payload):
    """The secure gateway unlocked online: the workshop's agent at the car reads its challenge, gets the token for
    it (once) and writes it."""
    job = _own_open_job(ctx, actor, job_id)
    gateway = next((e for e in ctx.describe(job.vin)["ecus"] if is_secure_gateway(e["name"])), None)
    if gateway is None:
        _refused(ctx, job, Conflict("NO_SECURE_GATEWAY", "The registry knows no secure gateway in this car.",
                                    {"field": "job_id"}))
    return _queue(ctx, actor, job, "unlock_gateway", gateway, agent_id=payload["agent_id"])


def _queue(ctx, actor, job, kind, ecu, agent_id, slot=None, key_id=None):
    with ctx.store.transaction() as uow:
        agent = uow.session.get(Agent, agent_id)
        if agent is None or agent.operator_id != actor["operator_id"] or agent.revoked_at is not None:
            raise invalid_field("AGENT_UNKNOWN", "agent_id", "your_agent", "This is not an agent of your workshop.")
        task = AgentTask(id=new_id(), kind=kind, security_job_id=job.id, agent_id=agent.id, vin=job.vin,
                         ecu_address=ecu["address"], ecu_type=ecu["hardware_part_number"], slot=slot, key_id=key_id,
                         state="queued", created_at=ctx.now)
        uow.session.add(task)
        return _task_view(task)


def task(ctx, actor, task_id):
    with ctx.store.read() as s:
        found = s.get(AgentTask, task_id)
        job = found and s.get(SecurityJob, found.security_job_id)
        if job is None or job.operator_id != actor["operator_id"]:
            raise NotFound("TASK_NOT_FOUND", "Your workshop has no such task.", {"field": "task_id"})
        return _task_view(found)


def _task_view(k):
    return {"id": k.id, "kind": k.kind, "security_job_id": k.security_job_id, "agent_id": k.agent_id, "vin": k.vin,
            "ecu_address": k.ecu_address, "slot": k.slot, "key_id": k.key_id, "state": k.state, "detail": k.detail,
            "created_at": k.created_at, "finished_at": k.finished_at}


def _agents_running_task(s, credentials, task_id, kind, now):
    agent = authenticate(s, *credentials)
    found = s.get(AgentTask, task_id)
    if found is None or found.agent_id != agent.id or found.kind != kind:
        raise NotFound("TASK_NOT_FOUND", "This agent has no such task.", {"field": "task_id"})
    job = s.get(SecurityJob, found.security_job_id)
    if found.state != "running" or now >= job.expires_at:
        raise Conflict("TASK_NOT_RUNNING", "This task is not running (finished, or its security job closed).",
                       {"field": "task_id"})
    return agent, found, job


@contextmanager
def final_task(ctx, credentials, task_id):
    """A refusal of a step of the agent's security task is final: the task fails with it in words, the trail
    records the refusal and the failed task, so the agent's next job is never this task again."""
    try:
        yield
    except FINAL as refused:
        with ctx.store.transaction() as uow:
            agent = authenticate(uow.session, *credentials)
            found = uow.session.get(AgentTask, task_id, with_for_update=True)
            if found is not None and found.agent_id == agent.id and found.state in ("queued", "running"):
                job = uow.session.get(SecurityJob, found.security_job_id)
                _refusal_recorded(uow, job, refused.code, ctx.now)
                _task_ended(uow, found, job, "failed", f"Refused by AOS: {refused.message}"[:500], ctx.now)
        raise type(refused)(refused.code, refused.message, refused.details | {"final": True}) from None


def task_security_key(ctx, credentials, task_id, payload):
    """The immobiliser's security key for the agent running a key task: that ECU only, while the task runs and its
    security job is open; recorded as every key is. A refusal fails the task (final_task)."""
    with final_task(ctx, credentials, task_id):
        with ctx.store.transaction() as uow:
            agent, found, job = _agents_running_task(uow.session, credentials, task_id, "program_key", ctx.now)
            if payload["ecu_address"] != found.ecu_address:
                raise invalid_field("ECU_NOT_IN_TASK", "ecu_address", "the_immobiliser",
                                    f"This task opens the immobiliser {found.ecu_address} only.")
            uow.session.add(IssuedKey(session_id=found.id, agent_id=agent.id, operator_id=job.operator_id,
                                      vin=found.vin, ecu_address=found.ecu_address, ecu_type=found.ecu_type,
                                      seed=payload["seed"], issued_at=ctx.now))
            key = ctx.keys.security_key(found.ecu_type, bytes.fromhex(payload["seed"]))
            uow.emit("SecurityKeyIssued", {"session_id": found.id, "operator_id": job.operator_id, "vin": found.vin,
                                           "ecu_address": found.ecu_address, "ecu_type": found.ecu_type,
                                           "issued_at": ctx.now}, subject=found.vin)
    metrics.KEYS_ISSUED.inc()
    return {"key": key.hex()}


def task_gateway_token(ctx, credentials, task_id, payload):
    """The unlock token for the challenge the agent read from the car's gateway, in a running unlock task."""
    with final_task(ctx, credentials, task_id):
        with ctx.store.read() as s:
            _, found, job = _agents_running_task(s, credentials, task_id, "unlock_gateway", ctx.now)
        return _unlock_token(ctx, job, {"address": found.ecu_address, "hardware_part_number": found.ecu_type},
                             payload["challenge"])


def task_report(ctx, credentials, task_id, payload):
    """The agent's word on a task: done or failed, once (a repeat changes nothing), only from the agent that took
    it, while it runs. Done is believed only for work AOS opened: a key programmed needs the security key AOS gave
    for this task, a gateway unlocked the token AOS gave for it; otherwise the task is recorded failed and the
    report refused, so the trail never shows work done that could not have been."""
    with ctx.store.transaction() as uow:
        s = uow.session
        agent = authenticate(s, *credentials)
        found = s.get(AgentTask, task_id, with_for_update=True)
        if found is None or found.agent_id != agent.id:
            raise NotFound("TASK_NOT_FOUND", "This agent has no such task.", {"field": "task_id"})
        if found.state in ("done", "failed"):
            return _task_view(found)
        if found.state != "running":
            raise Conflict("TASK_NOT_RUNNING", "This task was not taken yet: the agent reports on a task it took "
                           "with its next job.", {"field": "task_id"})
        job = s.get(SecurityJob, found.security_job_id)
        refusal = domain.task_report_refusal(found.kind, payload["outcome"], _granted(s, found))
        if refusal is None:
            _task_ended(uow, found, job, payload["outcome"], payload["detail"], ctx.now)
            return _task_view(found)
        _refusal_recorded(uow, job, refusal.code, ctx.now)
        _task_ended(uow, found, job, "failed", refusal.message, ctx.now)
    raise refusal


def _granted(s, task):
    """Whether AOS opened the car for this task: a security key issued for it, or an unlock token issued in its
    job for its gateway since the task was queued."""
    if task.kind in ("program_key", "pair_ecu"):
        return s.scalar(select(IssuedKey.id).where(IssuedKey.session_id == task.id).limit(1)) is not None
    return s.scalar(select(UnlockToken.id).where(
        UnlockToken.job_id == task.security_job_id, UnlockToken.ecu_address == task.ecu_address,
        UnlockToken.issued_at >= task.created_at).limit(1)) is not None


def _task_ended(uow, task, job, outcome, detail, now):
    task.state, task.detail, task.finished_at = outcome, detail, now
    fact = {"job_id": job.id, "task_id": task.id, "operator_id": job.operator_id, "user_id": job.user_id,
            "vin": task.vin, "ecu_address": task.ecu_address, "outcome": outcome, "finished_at": now}
    if task.kind == "program_key":
        uow.emit("KeyProgrammed", fact | {"slot": task.slot}, subject=task.vin)
    elif task.kind == "pair_ecu":
        uow.emit("UnitPaired", fact | {"ecu_type": task.ecu_type}, subject=task.vin)
        if outcome == "done":  # the replacement on the workshop's open job for this car is whole now
            for card in uow.session.scalars(select(JobCard).where(
                    JobCard.operator_id == job.operator_id, JobCard.vin == task.vin, JobCard.state == "open")
                    .with_for_update()):
                card.paired(task.ecu_address, now)
    else:
        uow.emit("GatewayUnlocked", fact, subject=task.vin)


def _refusal_recorded(uow, job, reason, now):
    uow.emit("SecurityRefused", {"job_id": job.id, "operator_id": job.operator_id, "user_id": job.user_id,
                                 "vin": job.vin, "reason": reason, "refused_at": now}, subject=job.vin)


def _job_view(job, now):
    return {"id": job.id, "vin": job.vin, "owner_name": job.owner_name, "authorisation_id": job.authorisation_id,
            "opened_at": job.opened_at, "expires_at": job.expires_at, "open": now < job.expires_at}
