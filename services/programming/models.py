"""Programming's tables: workshop agents, the software catalogue, sessions and their clock, each operator's
programming time (billing's facts, and what this service has reserved and settled), and agents' reports."""
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, Float, Integer, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.programming.domain import DiagnosisRun as DiagnosisRunRules, JobCard as JobCardRules, ProgrammingSession
from services.billing.access import access_table
from services.shared.database import UtcDateTime, messaging_tables


class Base(DeclarativeBase):
    pass


OutboxMessage, ProcessedEvent = messaging_tables(Base)
Access = access_table(Base)  # billing's VIN passes (windows): a day pass for a car covers its diagnosis


class Agent(Base):
    """A workshop's pass-through client, bound to its operator by a credential shown once."""
    __tablename__ = "agents"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    operator_id: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(100))
    credential_sha256: Mapped[str] = mapped_column(String(64))
    registered_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)  # refused from then on


class Package(Base):
    """A signed flash file for one ECU in one integration level."""
    __tablename__ = "packages"
    __table_args__ = (UniqueConstraint("ecu_address", "software_version"),)
    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    series: Mapped[str] = mapped_column(String(10), index=True)
    ecu_address: Mapped[str] = mapped_column(String(8))
    hardware_part_numbers: Mapped[list] = mapped_column(JSON)
    software_version: Mapped[str] = mapped_column(String(40))
    integration_level: Mapped[str] = mapped_column(String(40))
    flash_order: Mapped[int] = mapped_column(Integer)  # the manufacturer's dependency-safe order
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    manifest: Mapped[dict] = mapped_column(JSON)
    signature: Mapped[str] = mapped_column(String(200))
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # a stored file found bad on a workshop's claim: no plan takes it again (PackageWithdrawn says so)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    withdrawn_because: Mapped[str | None] = mapped_column(String(20), nullable=True)  # the check it failed


class Seconds:
    """An operator's seconds: bought (AccessPurchased), settled by what ended, and reserved by what runs. A
    reservation is a conditional update, so concurrent work never together takes more than was bought."""
    operator_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    purchased_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    settled_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    reserved_seconds: Mapped[int] = mapped_column(BigInteger, default=0)


class Account(Seconds, Base):
    """An operator's programming seconds."""
    __tablename__ = "accounts"


class Session(ProgrammingSession, Base):
    """A programming session as stored; its rules are domain.ProgrammingSession's. The clock counts
    `active_seconds` only while the session runs and its agent's heartbeats come: up to the last heartbeat,
    never across a silence."""
    __tablename__ = "sessions"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    operator_id: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[str] = mapped_column(String(64))
    agent_id: Mapped[str] = mapped_column(String(36), index=True)
    vin: Mapped[str] = mapped_column(String(17))
    state: Mapped[str] = mapped_column(String(20), index=True)
    paid_by: Mapped[str | None] = mapped_column(String(10), nullable=True)  # time | vin_pass
    preflight: Mapped[dict] = mapped_column(JSON)  # the checklist and what the agent read
    plan: Mapped[list] = mapped_column(JSON)  # [{ecu_address, package_id, from_version, to_version, status, ...}]
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    active_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    clock_mark: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)  # counted up to here
    last_heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    interrupted_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    reserved_seconds: Mapped[int] = mapped_column(Integer, default=0)
    flashing: Mapped[bool] = mapped_column(Boolean, default=False)  # an ECU is being written: never cut
    in_grace: Mapped[bool] = mapped_column(Boolean, default=False)
    outcome: Mapped[str | None] = mapped_column(String(20), nullable=True)
    failure_side: Mapped[str | None] = mapped_column(String(10), nullable=True)
    seconds_billed: Mapped[int | None] = mapped_column(Integer, nullable=True)
    message: Mapped[str | None] = mapped_column(String(500), nullable=True)


class Report(Base):
    """An agent's report, by its sequence number in the session: a duplicate changes nothing."""
    __tablename__ = "reports"
    __table_args__ = (UniqueConstraint("session_id", "sequence"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(String(36), index=True)
    sequence: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())


class IssuedKey(Base):
    """Each security key answered to an agent: for which session, car, ECU and type, for which seed, when. The key
    itself is not kept: the seed and the type give it back to whoever holds the key store."""
    __tablename__ = "issued_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(String(36), index=True)
    agent_id: Mapped[str] = mapped_column(String(36))
    operator_id: Mapped[str] = mapped_column(String(64), index=True)
    vin: Mapped[str] = mapped_column(String(17))
    ecu_address: Mapped[str] = mapped_column(String(4))
    ecu_type: Mapped[str] = mapped_column(String(40))
    seed: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Claim(Base):
    """An agent's claim that a file of ours failed a check, and what the server found of the stored file: the
    `found` check it failed (the claim is confirmed, the failure ours), or none (refuted, the time charged)."""
    __tablename__ = "claims"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(String(36), index=True)
    agent_id: Mapped[str] = mapped_column(String(36))
    operator_id: Mapped[str] = mapped_column(String(64), index=True)
    package_id: Mapped[str] = mapped_column(String(80))
    claimed: Mapped[str] = mapped_column(String(20))
    found: Mapped[str | None] = mapped_column(String(20), nullable=True)
    confirmed: Mapped[bool] = mapped_column(Boolean)
    claimed_at: Mapped[datetime] = mapped_column(UtcDateTime())


class SecurityJob(Base):
    """Security-related work on one car by one SERMI-authorised technician, with the vehicle owner's identity
    recorded first (the name, and a salted hash of the ID document's number: never the number itself). Open while
    the technician's sign-in at the trust centre is fresh."""
    __tablename__ = "security_jobs"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    operator_id: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[str] = mapped_column(String(64))
    vin: Mapped[str] = mapped_column(String(17))
    owner_name: Mapped[str] = mapped_column(String(200))
    owner_document_hash: Mapped[str] = mapped_column(String(64))
    owner_document_salt: Mapped[str] = mapped_column(String(32))
    authorisation_id: Mapped[str] = mapped_column(String(100))  # the technician's SERMI authorisation
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())


class UnlockToken(Base):
    """A secure-gateway unlock token issued: one per gateway challenge (the challenge is one-time in the car)."""
    __tablename__ = "unlock_tokens"
    __table_args__ = (UniqueConstraint("vin", "ecu_address", "challenge"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    job_id: Mapped[str] = mapped_column(String(36), index=True)
    vin: Mapped[str] = mapped_column(String(17))
    ecu_address: Mapped[str] = mapped_column(String(4))
    challenge: Mapped[str] = mapped_column(String(16))
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())


class AgentTask(Base):
    """Security-related work done by the workshop's agent at the car, in a security job: a key programmed into
    the immobiliser (`program_key`) or the secure gateway unlocked online (`unlock_gateway`). Queued, then running
    once the agent took it, then done or failed, as the agent reported."""
    __tablename__ = "agent_tasks"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # program_key | unlock_gateway
    security_job_id: Mapped[str] = mapped_column(String(36), index=True)
    agent_id: Mapped[str] = mapped_column(String(36), index=True)
    vin: Mapped[str] = mapped_column(String(17))
    ecu_address: Mapped[str] = mapped_column(String(4))
    ecu_type: Mapped[str] = mapped_column(String(40))
    slot: Mapped[int | None] = mapped_column(Integer, nullable=True)  # program_key: the immobiliser's key slot
    key_id: Mapped[str | None] = mapped_column(String(16), nullable=True)  # program_key: the transponder's id
    state: Mapped[str] = mapped_column(String(10), default="queued")  # queued | running | done | failed
    detail: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class DiagnosisAccount(Seconds, Base):
    """An operator's remote-diagnosis seconds."""
    __tablename__ = "diagnosis_accounts"


class JobCard(JobCardRules, Base):
    """A car's job from complaint to service record; its rules are domain.JobCard's."""
    __tablename__ = "job_cards"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    operator_id: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[str] = mapped_column(String(64))
    vin: Mapped[str] = mapped_column(String(17), index=True)
    agent_id: Mapped[str] = mapped_column(String(36))
    complaint: Mapped[str] = mapped_column(String(1000))
    odometer_km: Mapped[int] = mapped_column(Integer)
    labour_rate_cents: Mapped[int] = mapped_column(Integer)  # the workshop's net hourly rate for this job
    vat_country: Mapped[str] = mapped_column(String(2))
    state: Mapped[str] = mapped_column(String(10))  # open | closed
    ecus: Mapped[list] = mapped_column(JSON)  # the car's ECUs as the registry lists them
    before: Mapped[list | None] = mapped_column(JSON, nullable=True)  # the first quick test's fault memory
    after: Mapped[list | None] = mapped_column(JSON, nullable=True)  # the quick test after the last clear
    cleared_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    operations: Mapped[list] = mapped_column(JSON)  # [{document_id, title, hours}] from AIR's documents
    parts: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")  # priced lines (domain.JobCard)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    service_record_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    report_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # the car's coding as last read, its target and what differs, and what was written (domain.JobCard.coding_*)
    coding: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    # units replaced, by address: the old one's backup, the new one as restored (domain.JobCard.backed_up ...)
    replacements: Mapped[dict | None] = mapped_column(JSON, nullable=True)


class DiagnosisRun(DiagnosisRunRules, Base):
    """One piece of diagnosis the agent does at the car, with its clock; its rules are domain.DiagnosisRun's."""
    __tablename__ = "diagnosis_runs"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    job_id: Mapped[str] = mapped_column(String(36), index=True)
    operator_id: Mapped[str] = mapped_column(String(64))
    agent_id: Mapped[str] = mapped_column(String(36), index=True)
    vin: Mapped[str] = mapped_column(String(17))
    kind: Mapped[str] = mapped_column(String(20))  # quick_test | live_data | routine | clear
    params: Mapped[dict] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(12), index=True)  # queued | running | done | failed | interrupted | cancelled
    paid_by: Mapped[str] = mapped_column(String(10))  # time | vin_pass
    reserved_seconds: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    samples: Mapped[list] = mapped_column(JSON)  # live data as it came: [{t, values}]
    detail: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    last_contact_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    seconds_used: Mapped[int | None] = mapped_column(Integer, nullable=True)


class CodingRules(Base):
    """The manufacturer's coding rules as the software catalogue shipped them (services.programming.coding):
    the newest import is the one coding jobs target with."""
    __tablename__ = "coding_rules"
    version: Mapped[str] = mapped_column(String(40), primary_key=True)
    rules: Mapped[list] = mapped_column(JSON)
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class DiagnosticDescription(Base):
    """An ECU type's diagnostic description as the manufacturer delivered it: its PDX file in object storage (under
    its SHA-256) and what tool makers read of it (`summary`: fault codes, data identifiers, routines). Each file
    that changes what is kept gets the next revision (partners' diagnostics feed); a withdrawn one stays a
    tombstone."""
    __tablename__ = "diagnostic_descriptions"
    ecu_type: Mapped[str] = mapped_column(String(64), primary_key=True)
    long_name: Mapped[str] = mapped_column(String(200))
    file_name: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    summary: Mapped[dict] = mapped_column(JSON)
    revision: Mapped[int] = mapped_column(Integer, unique=True)
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime())
    withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
