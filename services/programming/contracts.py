"""Programming's facts: agents, sessions and their clock, flashes, security-related work, diagnosis and the job card;
and whose a failure was. Each fact's one contract, which its publisher and every consumer import (the whole
catalogue: services/catalogue.py)."""
from marshmallow import fields, validate

from services.shared.events import Contract, Id, Seconds, Vin, When, facts

FAILURE_SIDES = ("none", "platform", "vehicle")  # whose a failed session was: nobody's, ours, the car's


class AgentChanged(Contract):
    """A workshop's agent was registered, got a new credential, or was revoked (for the audit trail)."""
    operator_id = Id()
    user_id = Id()
    agent_id = Id()
    agent_name = fields.String(required=True, validate=validate.Length(1, 100))
    change = fields.String(required=True, validate=validate.OneOf(("registered", "credential_renewed", "revoked")))
    changed_at = When()


class SessionStarted(Contract):
    session_id = Id()
    operator_id = Id()
    vin = Vin(required=True)
    agent_id = Id()
    started_at = When()


class SessionEnded(Contract):
    session_id = Id()
    operator_id = Id()
    vin = Vin(required=True)
    seconds_used = Seconds()
    outcome = fields.String(required=True, validate=validate.OneOf(("completed", "failed", "cancelled")))
    failure_side = fields.String(required=True, validate=validate.OneOf(FAILURE_SIDES))
    ended_at = When()


class SessionExpired(Contract):
    session_id = Id()
    operator_id = Id()
    vin = Vin(required=True)
    seconds_used = Seconds()
    expired_at = When()


class FlashCompleted(Contract):
    session_id = Id()
    operator_id = Id()
    vin = Vin(required=True)
    ecu_address = fields.String(required=True)
    software_version = fields.String(required=True)
    duration_seconds = Seconds()


class FlashFailed(Contract):
    session_id = Id()
    operator_id = Id()
    vin = Vin(required=True)
    ecu_address = fields.String(required=True)
    cause = fields.String(required=True)
    failure_side = fields.String(required=True, validate=validate.OneOf(FAILURE_SIDES))


class SecurityJobOpened(Contract):
    """A SERMI-authorised technician began security-related work on a car, its owner's identity recorded."""
    job_id = Id()
    operator_id = Id()
    user_id = Id()
    vin = Vin(required=True)
    authorisation_id = fields.String(required=True, validate=validate.Length(1, 100))
    owner_name = fields.String(required=True, validate=validate.Length(1, 200))
    opened_at = When()


class GatewayUnlockIssued(Contract):
    """A one-time unlock token for a car's secure gateway, for its challenge, in a security job."""
    job_id = Id()
    operator_id = Id()
    user_id = Id()
    vin = Vin(required=True)
    ecu_address = fields.String(required=True)
    issued_at = When()


class SecurityRefused(Contract):
    """A step of security-related work was refused: a replayed challenge, a closed job, not the car's gateway."""
    job_id = Id()
    operator_id = Id()
    user_id = Id()
    vin = Vin(required=True)
    reason = fields.String(required=True, validate=validate.Length(1, 64))
    refused_at = When()


class GatewayUnlocked(Contract):
    """The workshop's agent unlocked a car's secure gateway online (or that failed), in a security job."""
    job_id = Id()
    task_id = Id()
    operator_id = Id()
    user_id = Id()
    vin = Vin(required=True)
    ecu_address = fields.String(required=True)
    outcome = fields.String(required=True, validate=validate.OneOf(("done", "failed")))
    finished_at = When()


class JobOpened(Contract):
    """A workshop opened a job on a car, with the customer's complaint."""
    job_id = Id()
    operator_id = Id()
    user_id = Id()
    vin = Vin(required=True)
    odometer_km = fields.Integer(required=True)
    opened_at = When()


class DiagnosisRunEnded(Contract):
    """A piece of diagnosis or coding at the car ended; the paid seconds it used (0 when a VIN pass paid), of
    remote-diagnosis time, or of programming time for coding (`time`)."""
    run_id = Id()
    job_id = Id()
    operator_id = Id()
    vin = Vin(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(
        ("quick_test", "live_data", "routine", "clear", "read_coding", "write_coding", "backup_ecu", "restore_ecu")))
    time = fields.String(load_default="diagnosis", validate=validate.OneOf(("diagnosis", "programming")))
    outcome = fields.String(required=True, validate=validate.OneOf(("done", "failed", "interrupted", "cancelled")))
    paid_by = fields.String(required=True, validate=validate.OneOf(("time", "vin_pass")))
    seconds_used = Seconds()
    ended_at = When()


class CodingChange(Contract):
    identifier = fields.String(required=True)
    parameter = fields.String(required=True)
    old_value = fields.Raw(required=True, allow_none=True, metadata={"description": "what the ECU held"})
    new_value = fields.Raw(required=True, metadata={"description": "what the order says: written"})
    verified = fields.Boolean(required=True, metadata={"description": "the ECU read back the new value"})


class CodingWritten(Contract):
    """An ECU's coding was written to follow the car's order, each change verified against its read-back."""
    job_id = Id()
    run_id = Id()
    operator_id = Id()
    vin = Vin(required=True)
    ecu_address = fields.String(required=True)
    ecu_type = fields.String(required=True)
    changes = fields.List(fields.Nested(CodingChange), required=True)
    written_at = When()


class JobClosed(Contract):
    """A job was closed: its service record written, its report kept."""
    job_id = Id()
    operator_id = Id()
    user_id = Id()
    vin = Vin(required=True)
    service_record_id = Id()
    gross_cents = fields.Integer(required=True)
    closed_at = When()


class KeyProgrammed(GatewayUnlocked):
    """A key was programmed into a car's immobiliser (or that failed), in a security job, by the workshop's agent."""
    slot = fields.Integer(required=True)


class UnitPaired(GatewayUnlocked):
    """A theft-relevant replacement unit was paired with its car (or that failed), in a security job."""
    ecu_type = fields.String(required=True, metadata={"description": "the hardware number the registry records"})


class SecurityKeyIssued(Contract):
    """An ECU's security access was granted: the key for its seed went to the session's agent."""
    session_id = Id()
    operator_id = Id()
    vin = Vin(required=True)
    ecu_address = fields.String(required=True)
    ecu_type = fields.String(required=True, metadata={"description": "the hardware number the registry records"})
    ecu_name = fields.String(allow_none=True, load_default=None, metadata={
        "description": "the ECU as the vehicle registry names it, e.g. DME (engine control)"})
    issued_at = When()


class AgentRefused(Contract):
    """The server refused a workshop agent a step of a programming session (a security key, a report): final,
    the session ended with it."""
    session_id = Id()
    operator_id = Id()
    vin = Vin(required=True)
    agent_id = Id()
    request = fields.String(required=True, validate=validate.OneOf(("security_key", "report")))
    ecu_address = fields.String(allow_none=True, load_default=None)
    reason = fields.String(required=True, validate=validate.Length(1, 64), metadata={"description": "the error code"})
    failure_side = fields.String(required=True, validate=validate.OneOf(FAILURE_SIDES), metadata={
        "description": "platform: the server refused a step of its own plan, and nothing is charged"})
    refused_at = When()


class PackageWithdrawn(Contract):
    package_id = fields.String(required=True)
    ecu_address = fields.String(required=True)
    software_version = fields.String(required=True)
    check = fields.String(required=True, metadata={"description": "the check the stored file failed"})
    session_id = Id()
    withdrawn_at = fields.AwareDateTime(required=True)


FACTS = facts(
    "programming",
    AgentChanged=(AgentChanged, "A workshop's agent was registered, renewed or revoked."),
    SessionStarted=(SessionStarted, "The clock of a programming session started."),
    SessionEnded=(SessionEnded, "A programming session closed; seconds to bill."),
    SessionExpired=(SessionExpired, "A programming session ran out of paid time."),
    FlashCompleted=(FlashCompleted, "An ECU was flashed and verified."),
    FlashFailed=(FlashFailed, "An ECU flash failed, with its cause."),
    SecurityJobOpened=(SecurityJobOpened, "Security-related work on a car began, by a SERMI-authorised technician, "
                                          "with the owner's identity recorded."),
    GatewayUnlockIssued=(GatewayUnlockIssued, "A one-time secure-gateway unlock token was issued."),
    SecurityRefused=(SecurityRefused, "A step of security-related work was refused."),
    GatewayUnlocked=(GatewayUnlocked, "A car's secure gateway was unlocked online by the workshop's agent, or that "
                                      "failed."),
    JobOpened=(JobOpened, "A workshop opened a job on a car."),
    DiagnosisRunEnded=(DiagnosisRunEnded, "A piece of remote diagnosis or coding ended; seconds to bill."),
    CodingWritten=(CodingWritten, "An ECU's coding was written to follow the car's order and read back."),
    JobClosed=(JobClosed, "A job was closed with its service record and report."),
    KeyProgrammed=(KeyProgrammed, "A key was programmed into a car's immobiliser, or that failed."),
    UnitPaired=(UnitPaired, "A theft-relevant replacement unit was paired with its car, or that failed."),
    SecurityKeyIssued=(SecurityKeyIssued, "An ECU's security access was granted to a session's agent."),
    AgentRefused=(AgentRefused, "A workshop agent was refused a step of a programming session; the session ended with "
                                "the refusal."),
    PackageWithdrawn=(PackageWithdrawn, "A flash file of ours was found bad on a workshop's claim and no plan takes it "
                                        "any more."),
)
