"""Programming's RPC contract: what users and agents send (checked here; the gateway documents the same
schemas) and the answers."""
from marshmallow import ValidationError, fields, validate, validates_schema

from services.shared.schemas import Input, MirrorPage, MirrorQuery, Output, Text, mirror_changes

VIN = validate.Regexp(r"^[A-HJ-NPR-Za-hj-npr-z0-9]{17}$", error="17 letters and digits, without I, O and Q.")
ADDRESS = validate.Regexp(r"^0x[0-9A-F]{2}$", error="an ECU address such as 0x12")


class AgentInput(Input):
    name = Text(100, metadata={"description": "what the workshop calls it, e.g. 'bay 2 laptop'"})


class OpenSession(Input):
    vin = fields.String(required=True, validate=VIN)
    agent_id = fields.String(required=True, validate=validate.Length(1, 36))


class Progress(Input):
    ecu_address = fields.String(required=True, validate=ADDRESS)
    bytes_done = fields.Integer(required=True, validate=validate.Range(min=0))
    bytes_total = fields.Integer(required=True, validate=validate.Range(min=1))


class Heartbeat(Input):
    progress = fields.Nested(Progress, load_default=None, allow_none=True)


class EcuReading(Input):
    address = fields.String(required=True, validate=ADDRESS)
    software_version = fields.String(required=True, validate=validate.Length(1, 40))
    hardware_part_number = fields.String(required=True, validate=validate.Length(1, 20))
    state = fields.String(required=True, validate=validate.OneOf(("APPLICATION", "BOOTLOADER")))


class VehicleReading(Input):
    vin = fields.String(required=True, validate=VIN)
    voltage_mv = fields.Integer(required=True, validate=validate.Range(0, 30000))
    ecus = fields.List(fields.Nested(EcuReading), required=True, validate=validate.Length(max=200))


REPORT_KINDS = ("preflight", "files_verified", "file_rejected", "flash_started", "flash_completed", "flash_failed")


class AgentReport(Input):
    """One of: preflight (`vehicle`), files_verified (`package_ids`), file_rejected (`package_id`, `check`),
    flash_started / flash_completed (`ecu_address`, `software_version`, `duration_seconds`) / flash_failed
    (`ecu_address`, `cause`, `step`, `detail`)."""
    sequence = fields.Integer(required=True, validate=validate.Range(min=1), metadata={
        "description": "1, 2, 3, … within the session: a repeat changes nothing, a gap is refused"})
    kind = fields.String(required=True, validate=validate.OneOf(REPORT_KINDS))
    vehicle = fields.Nested(VehicleReading, load_default=None)
    package_ids = fields.List(fields.String(validate=validate.Length(1, 80)), load_default=None)
    package_id = fields.String(load_default=None, validate=validate.Length(1, 80))
    check = fields.String(load_default=None, validate=validate.OneOf(("signature", "sha256", "size", "download")))
    ecu_address = fields.String(load_default=None, validate=ADDRESS)
    software_version = fields.String(load_default=None, validate=validate.Length(1, 40))
    duration_seconds = fields.Integer(load_default=0, validate=validate.Range(min=0))
    cause = fields.String(load_default=None, validate=validate.Length(1, 40))
    step = fields.String(load_default=None, validate=validate.Length(0, 80))
    detail = fields.String(load_default=None, validate=validate.Length(0, 500))

    @validates_schema
    def _fields_of_kind(self, data, **kw):
        missing = [f for f in NEEDS[data["kind"]] if data.get(f) is None]
        if missing:
            raise ValidationError({f: [f"required for a {data['kind']} report"] for f in missing})


NEEDS = {"preflight": ("vehicle",), "files_verified": ("package_ids",), "file_rejected": ("package_id", "check"),
         "flash_started": ("ecu_address",), "flash_completed": ("ecu_address", "software_version"),
         "flash_failed": ("ecu_address", "cause")}


class SeedInput(Input):
    ecu_address = fields.String(required=True, validate=ADDRESS)
    seed = fields.String(required=True, validate=validate.Regexp(
        r"^(?:[0-9a-f]{2}){1,32}$", error="whole bytes in hex, lower case: 2 to 64 digits, an even number"))


class SecurityJobInput(Input):
    """Security-related work on a car: the car, and the owner's identity as the technician checked it."""
    vin = fields.String(required=True, validate=validate.Regexp(
        r"^[A-HJ-NPR-Z0-9]{17}$", error="17 capital letters and digits, without I, O and Q."))
    owner_name = Text(200)
    owner_document_number = fields.String(required=True, validate=validate.Regexp(
        r"^[A-Za-z0-9 -]{5,30}$", error="the ID document's number: 5 to 30 letters and digits"), metadata={
            "description": "kept only as a salted hash"})


class UnlockInput(Input):
    ecu_address = fields.String(required=True, validate=ADDRESS)
    challenge = fields.String(required=True, validate=validate.Regexp(
        r"^[0-9a-f]{16}$", error="the gateway's challenge: 16 hex digits, lower case"))


class AgentUnlockInput(Input):
    """The secure gateway unlocked online: the workshop's agent at the car reads the challenge and writes the
    token."""
    agent_id = fields.String(required=True, validate=validate.Length(1, 36))


class PairingInput(Input):
    """A theft-relevant replacement to pair: which agent at the car, which unit."""
    agent_id = fields.String(required=True, validate=validate.Length(1, 36))
    ecu_address = fields.String(required=True, validate=ADDRESS)


class ChallengeInput(Input):
    challenge = fields.String(required=True, validate=validate.Regexp(
        r"^[0-9a-f]{16}$", error="the gateway's challenge: 16 hex digits, lower case"))


class KeyJobInput(Input):
    """A key to program: which agent at the car, which slot of the immobiliser, the transponder's id."""
    agent_id = fields.String(required=True, validate=validate.Length(1, 36))
    slot = fields.Integer(required=True, strict=True, validate=validate.Range(1, 8))
    key_id = fields.String(required=True, validate=validate.Regexp(
        r"^[0-9a-f]{16}$", error="the transponder's id: 16 hex digits, lower case"))


class TaskReport(Input):
    outcome = fields.String(required=True, validate=validate.OneOf(("done", "failed")))
    detail = fields.String(load_default=None, validate=validate.Length(0, 500))


# ---- answers ----

class AgentSeen(Output):
    id = fields.String()
    name = fields.String()
    registered_at = fields.AwareDateTime()
    last_seen_at = fields.AwareDateTime(allow_none=True)
    revoked_at = fields.AwareDateTime(allow_none=True, metadata={"description": "refused since; none: in use"})
    online = fields.Boolean()


class AgentOut(AgentSeen):
    credential = fields.String(metadata={"description": "shown once, at registration: the agent's secret"})


class AgentList(Output):
    agents = fields.List(fields.Nested(AgentSeen))


class SessionOut(Output):
    id = fields.String()
    vin = fields.String()
    agent_id = fields.String()
    state = fields.String(metadata={"description": "preflight, ready, running, interrupted, ended, expired"})
    preflight = fields.Dict(metadata={"description": "the checklist, filled in as the agent reports"})
    plan = fields.List(fields.Dict(), metadata={"description": "ECUs to program in order, with progress"})
    paid_by = fields.String(allow_none=True)
    used_seconds = fields.Float()
    left_seconds = fields.Float(allow_none=True)
    clock_running = fields.Boolean()
    in_grace = fields.Boolean()
    created_at = fields.AwareDateTime()
    started_at = fields.AwareDateTime(allow_none=True)
    ended_at = fields.AwareDateTime(allow_none=True)
    outcome = fields.String(allow_none=True)
    failure_side = fields.String(allow_none=True)
    seconds_billed = fields.Integer(allow_none=True)
    message = fields.String(allow_none=True)
    duplicate = fields.Boolean()


class SessionClock(SessionOut):
    """What a heartbeat answers: the clock, not the checklist or the plan."""
    class Meta:
        fields = ("id", "state", "used_seconds", "left_seconds", "clock_running", "in_grace", "message")


class SessionSeen(SessionOut):
    """A session in the workshop's list: what it was, not its checklist, plan or clock."""
    class Meta:
        fields = ("id", "vin", "agent_id", "state", "created_at", "ended_at", "outcome", "seconds_billed")


class SessionList(Output):
    sessions = fields.List(fields.Nested(SessionSeen), metadata={"description": "newest first, the last 50"})


class Job(Output):
    kind = fields.String(metadata={"description": "none, preflight, download, flash, program_key, unlock_gateway"})
    session_id = fields.String(metadata={"description": "the programming session (program_key: the key job)"})
    vin = fields.String()
    state = fields.String()
    next_sequence = fields.Integer()
    ecus = fields.List(fields.String(), metadata={"description": "pre-flight: the ECU addresses to read"})
    files = fields.List(fields.Dict())
    plan = fields.List(fields.Dict())
    task_id = fields.String(metadata={"description": "program_key, unlock_gateway: the agent task"})
    ecu_address = fields.String(metadata={"description": "program_key: the immobiliser; unlock_gateway: the gateway"})
    slot = fields.Integer(metadata={"description": "program_key: the immobiliser's key slot"})
    key_id = fields.String(metadata={"description": "program_key: the transponder's id to write"})
    run = fields.String(metadata={"description": "diagnosis: quick_test, live_data, routine or clear"})
    run_id = fields.String(metadata={"description": "diagnosis: the run to report on"})
    targets = fields.List(fields.Dict(), metadata={"description": "diagnosis: the ECUs (address, name) to ask"})
    params = fields.Dict(metadata={"description": "diagnosis: identifiers, rate, seconds, routine"})
    budget_seconds = fields.Float(allow_none=True, metadata={"description": "diagnosis: paid seconds for the run"})


class KeyOut(Output):
    key = fields.String()


class SecurityJobOut(Output):
    id = fields.String()
    vin = fields.String()
    owner_name = fields.String()
    authorisation_id = fields.String(metadata={"description": "the technician's SERMI authorisation"})
    opened_at = fields.AwareDateTime()
    expires_at = fields.AwareDateTime(metadata={"description": "while the sign-in at the trust centre is fresh"})
    open = fields.Boolean()


class SecurityJobList(Output):
    jobs = fields.List(fields.Nested(SecurityJobOut))


class TokenOut(Output):
    token = fields.String()


class UnlockOut(Output):
    token = fields.String(metadata={"description": "16 hex digits, for the gateway's challenge, once"})
    ecu_address = fields.String()
    expires_at = fields.AwareDateTime()


class TaskOut(Output):
    id = fields.String()
    kind = fields.String(metadata={"description": "program_key or unlock_gateway"})
    security_job_id = fields.String()
    agent_id = fields.String()
    vin = fields.String()
    ecu_address = fields.String(metadata={"description": "the immobiliser, or the secure gateway"})
    slot = fields.Integer(allow_none=True)
    key_id = fields.String(allow_none=True)
    state = fields.String(metadata={"description": "queued, running (the agent took it), done, failed"})
    detail = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    finished_at = fields.AwareDateTime(allow_none=True)


# ---- diagnosis and the job card ----

RUN_KINDS = ("quick_test", "live_data", "routine", "clear", "read_coding", "write_coding", "backup_ecu",
             "restore_ecu")
NAME = validate.Regexp(r"^[a-z][a-z0-9_]{0,63}$", error="a name from the ECU's ODX, e.g. engine_speed")


class OpenJob(Input):
    vin = fields.String(required=True, validate=VIN)
    agent_id = fields.String(required=True, validate=validate.Length(1, 36))
    complaint = Text(1000, lines=True, metadata={"description": "the customer's words, e.g. engine shakes at idle"})
    odometer_km = fields.Integer(required=True, strict=True, validate=validate.Range(0, 2_000_000))
    labour_rate_cents = fields.Integer(load_default=9500, strict=True, validate=validate.Range(1, 100_000), metadata={
        "description": "the workshop's net hourly labour rate for this job, in cents"})


class RunInput(Input):
    kind = fields.String(required=True, validate=validate.OneOf(RUN_KINDS))
    ecu_address = fields.String(load_default=None, validate=ADDRESS, metadata={
        "description": "live_data, routine, backup_ecu, restore_ecu"})
    identifiers = fields.List(fields.String(validate=NAME), load_default=None,
                              validate=validate.Length(1, 16), metadata={"description": "live_data: DID names"})
    rate = fields.Float(load_default=None, validate=validate.Range(0.2, 20.0),
                        metadata={"description": "live_data: samples a second"})
    seconds = fields.Integer(load_default=None, strict=True, validate=validate.Range(1, 300),
                             metadata={"description": "live_data: how long"})
    routine = fields.String(load_default=None, validate=NAME, metadata={"description": "routine: its ODX name"})


class OperationsInput(Input):
    document_ids = fields.List(fields.String(validate=validate.Length(3, 64)), required=True,
                               validate=validate.Length(0, 30))


class JobPart(Input):
    """A part on the job: its number as the catalogue or a repair instruction prints it, and how many."""
    number = fields.String(required=True, validate=validate.Regexp(r"^[0-9 .\-/]{11,20}$", error=(
        "a part number: 11 digits, with or without spaces")))
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(1, 999))


class JobParts(Input):
    lines = fields.List(fields.Nested(JobPart), required=True, validate=validate.Length(max=100))


class ReadingIn(Input):
    did = fields.String(required=True, validate=validate.Regexp(r"^0x[0-9A-F]{4}$"))
    name = fields.String(allow_none=True, validate=validate.Length(max=64))
    label = fields.String(required=True, validate=validate.Length(max=200))
    value = fields.Raw(load_default=None, allow_none=True)
    unit = fields.String(load_default="", validate=validate.Length(max=20))
    min = fields.Float(load_default=None, allow_none=True)
    max = fields.Float(load_default=None, allow_none=True)
    in_limits = fields.Boolean(load_default=None, allow_none=True)
    raw = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=512))

    @validates_schema
    def _value(self, data, **kw):
        if data["value"] is not None and not isinstance(data["value"], (int, float, str)) \
                or isinstance(data["value"], bool) or (isinstance(data["value"], str) and len(data["value"]) > 64):
            raise ValidationError("a number or a short text", "value")


class DtcIn(Input):
    code = fields.String(required=True, validate=validate.Regexp(r"^[PCBU][0-9A-F]{4}(-[0-9A-F]{2})?$"))
    number = fields.String(required=True, validate=validate.Regexp(r"^[0-9A-F]{6}$"))
    text = fields.String(required=True, validate=validate.Length(1, 200))
    known = fields.Boolean(required=True)
    status = fields.String(required=True, validate=validate.Regexp(r"^[0-9A-F]{2}$"))
    test_failed = fields.Boolean(load_default=False)
    test_failed_this_cycle = fields.Boolean(load_default=False)
    pending = fields.Boolean(load_default=False)
    confirmed = fields.Boolean(load_default=False)
    not_completed_since_clear = fields.Boolean(load_default=False)
    failed_since_clear = fields.Boolean(load_default=False)
    not_completed_this_cycle = fields.Boolean(load_default=False)
    warning_indicator = fields.Boolean(load_default=False)
    freeze_frame = fields.List(fields.Nested(ReadingIn), load_default=list, validate=validate.Length(max=32))
    checks = fields.List(fields.String(validate=NAME), load_default=list, validate=validate.Length(max=16))
    occurrences = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(0, 255))


class OfferedIn(Input):
    name = fields.String(required=True, validate=NAME)
    label = fields.String(required=True, validate=validate.Length(1, 200))
    unit = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=20))


class EcuResultIn(Input):
    address = fields.String(required=True, validate=ADDRESS)
    name = fields.String(required=True, validate=validate.Length(1, 100))
    reachable = fields.Boolean(load_default=True)
    cleared = fields.Boolean(load_default=None, allow_none=True)
    error = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=300))
    dtcs = fields.List(fields.Nested(DtcIn), load_default=list, validate=validate.Length(max=200))
    identifiers = fields.List(fields.Nested(OfferedIn), load_default=list, validate=validate.Length(max=200))
    routines = fields.List(fields.Nested(OfferedIn), load_default=list, validate=validate.Length(max=100))
    coding = fields.Dict(keys=fields.String(validate=NAME), values=fields.Dict(
        keys=fields.String(validate=NAME), values=fields.Raw()), load_default=None, allow_none=True,
        validate=validate.Length(max=64), metadata={"description": "read_coding: {identifier: {parameter: value}}"})


class CodingWriteIn(Input):
    address = fields.String(required=True, validate=ADDRESS)
    identifier = fields.String(required=True, validate=NAME)
    written = fields.Boolean(required=True)
    read_back = fields.Dict(keys=fields.String(validate=NAME), values=fields.Raw(), load_default=None,
                            allow_none=True, validate=validate.Length(max=64))
    error = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=300))


CODING_VALUES = fields.Dict(keys=fields.String(validate=NAME), values=fields.Dict(
    keys=fields.String(validate=NAME), values=fields.Raw()), load_default=dict, validate=validate.Length(max=64))


class UnitIdentity(Input):
    hardware_part_number = fields.String(required=True, validate=validate.Length(1, 20))
    software_version = fields.String(required=True, validate=validate.Length(1, 40))
    serial_number = fields.String(required=True, validate=validate.Length(1, 40))
    vin = fields.String(required=True, allow_none=True, validate=validate.Length(17, 17),
                        metadata={"description": "null: blank, a factory-new unit"})
    paired = fields.Boolean(required=True, allow_none=True, metadata={"description": "null: not a unit that pairs"})


class UnitIn(UnitIdentity):
    """A unit backed up, or restored: who it says it is, its coding and its carried-over values, as read."""
    address = fields.String(required=True, validate=ADDRESS)
    coding = CODING_VALUES
    adaptations = fields.Dict(keys=fields.String(validate=NAME), values=fields.Raw(), load_default=dict,
                              validate=validate.Length(max=32))
    found = fields.Nested(UnitIdentity, load_default=None, allow_none=True,
                          metadata={"description": "restore: the unit as found before anything was written"})


class RunResultIn(Input):
    """A quick test's, a clear's or a coding read's `ecus`, a routine's `result`, a coding write's `writes`, a
    backup's or a restore's `unit`."""
    ecus = fields.List(fields.Nested(EcuResultIn), validate=validate.Length(max=100))
    result = fields.String(validate=validate.OneOf(("passed", "failed")))
    writes = fields.List(fields.Nested(CodingWriteIn), validate=validate.Length(max=200))
    unit = fields.Nested(UnitIn)


class RunReport(Input):
    outcome = fields.String(required=True, validate=validate.OneOf(("done", "failed")))
    result = fields.Nested(RunResultIn, load_default=None, allow_none=True)
    detail = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))


class Sample(Input):
    t = fields.Float(required=True, validate=validate.Range(0, 3600))
    values = fields.List(fields.Nested(ReadingIn), required=True, validate=validate.Length(max=16))


class Samples(Input):
    samples = fields.List(fields.Nested(Sample), required=True, validate=validate.Length(1, 100))


class SamplesOut(Output):
    go_on = fields.Boolean(metadata={"description": "false: paid time for the run is used up, or it ended"})
    state = fields.String()


class RunOut(Output):
    id = fields.String()
    kind = fields.String()
    params = fields.Dict()
    state = fields.String(metadata={"description": "queued, running, done, failed, interrupted, cancelled"})
    paid_by = fields.String(metadata={"description": "time (remote-diagnosis seconds) or vin_pass"})
    result = fields.Dict(allow_none=True)
    samples = fields.List(fields.Dict())
    detail = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    started_at = fields.AwareDateTime(allow_none=True)
    finished_at = fields.AwareDateTime(allow_none=True)
    seconds = fields.Float(allow_none=True, metadata={"description": "the run's clock: seconds billed or so far"})
    clock_running = fields.Boolean()


class Estimate(Output):
    hours = fields.Float()
    labour_rate_cents = fields.Integer()
    labour_net_cents = fields.Integer()
    parts_net_cents = fields.Integer()
    parts_unpriced = fields.Integer(metadata={"description": "parts lines without a price (no parts access)"})
    net_cents = fields.Integer(metadata={"description": "labour and parts"})
    vat_rate = fields.String()
    vat_cents = fields.Integer()
    gross_cents = fields.Integer()


class JobPartLine(Output):
    number = fields.String(metadata={"description": "the current number"})
    asked_number = fields.String(metadata={"description": "as the operation or technician named it"})
    asked = fields.String(allow_none=True, metadata={"description": "the superseded number asked for, written"})
    written = fields.String(allow_none=True)
    name = fields.String(allow_none=True)
    quantity = fields.Integer()
    unit_net_cents = fields.Integer(allow_none=True)
    net_cents = fields.Integer(allow_none=True, metadata={"description": "null: unpriced (no parts access)"})
    vat_rate = fields.String(allow_none=True)
    vat_cents = fields.Integer(allow_none=True)
    gross_cents = fields.Integer(allow_none=True)
    document_id = fields.String(allow_none=True, metadata={"description": "the operation that brought it"})


class JobSummary(Output):
    id = fields.String()
    vin = fields.String()
    complaint = fields.String()
    odometer_km = fields.Integer()
    state = fields.String(metadata={"description": "open or closed"})
    opened_at = fields.AwareDateTime()
    closed_at = fields.AwareDateTime(allow_none=True)
    faults = fields.List(fields.String(), metadata={"description": "the codes found by the first quick test"})


class JobList(Output):
    jobs = fields.List(fields.Nested(JobSummary))


class JobOut(JobSummary):
    agent_id = fields.String()
    ecus = fields.List(fields.Dict())
    before = fields.List(fields.Dict(), allow_none=True, metadata={"description": "fault memory as found"})
    after = fields.List(fields.Dict(), allow_none=True, metadata={"description": "fault memory after the clear"})
    cleared_at = fields.AwareDateTime(allow_none=True)
    operations = fields.List(fields.Dict())
    parts = fields.List(fields.Nested(JobPartLine))
    estimate = fields.Nested(Estimate)
    service_record_id = fields.String(allow_none=True)
    report = fields.Boolean(metadata={"description": "whether the PDF report is written (on closing)"})
    runs = fields.List(fields.Nested(RunOut))
    findings = fields.List(fields.Dict(), metadata={
        "description": "each fault code with its fault-code document and ranked repair instructions (AIR)"})
    diagnosis_seconds_left = fields.Integer()
    programming_seconds_left = fields.Integer(metadata={"description": "what pays coding"})
    vin_pass = fields.Boolean()
    replacements = fields.Dict(metadata={
        "description": "units replaced, by address: state (backed_up, restored, needs_pairing, restore_incomplete), "
                       "the old unit's backup, the new one as restored, where its coding came from"})
    coding = fields.Dict(allow_none=True, metadata={
        "description": "the car's coding: state (read, writing, unverified), actual and target by ECU address, "
                       "the differences in words (ecu, label, from, to), and each write with its changes verified "
                       "against the read-back"})


class LinkOut(Output):
    url = fields.String()


# ---- diagnostic descriptions for partners' mirrors (services.programming.descriptions) ----

DescriptionsQuery = MirrorQuery  # where a partner's mirror of the diagnostic descriptions stands
DescriptionChangesQuery = MirrorPage  # a page of their changes after a cursor (ECU types by revision)


class FaultCodeOut(Output):
    code = fields.String(metadata={"description": "the display code, e.g. P0301"})
    number = fields.String(metadata={"description": "the 3-byte trouble code, hexadecimal"})
    text = fields.String()
    checks = fields.List(fields.String(), metadata={"description": "the test plan: data identifiers to check"})


class DataIdentifierOut(Output):
    name = fields.String()
    did = fields.String(metadata={"description": "e.g. 0x4001"})
    long_name = fields.String()
    unit = fields.String()
    minimum = fields.Float(metadata={"description": "the least a healthy car shows"})
    maximum = fields.Float(metadata={"description": "the most a healthy car shows"})
    bytes = fields.Integer()


class RoutineOut(Output):
    name = fields.String()
    number = fields.String()
    long_name = fields.String()


class ExportedDescription(Output):
    """An ECU type's diagnostic description as a mirror keeps it; a tombstone (withdrawn) has `deleted` only."""
    cursor = fields.String(metadata={"description": "resume after this line with `after=`"})
    id = fields.String(metadata={"description": "the ECU type, as the mirror keys it"})
    deleted = fields.Boolean(metadata={"description": "withdrawn: remove it from the mirror"})
    ecu_type = fields.String()
    long_name = fields.String()
    file_name = fields.String()
    sha256 = fields.String(metadata={"description": "of the PDX file"})
    size = fields.Integer()
    file = fields.String(metadata={"description": "where to take the PDX file (a redirect to a signed link)"})
    fault_codes = fields.List(fields.Nested(FaultCodeOut))
    data_identifiers = fields.List(fields.Nested(DataIdentifierOut))
    routines = fields.List(fields.Nested(RoutineOut))
    freeze_frame = fields.List(fields.String())
    coding = fields.List(fields.Dict(), metadata={
        "description": "coding identifiers: did, session, security level, parameters (a text table's values or a "
                       "range) as automotive.odx.Coding.view describes them"})
    carried_over = fields.List(fields.String(), metadata={
        "description": "data identifiers a replacement unit takes over from the old one"})


DescriptionChanges = mirror_changes(ExportedDescription, "DescriptionChanges")


class DescriptionFile(Output):
    url = fields.String()
    sha256 = fields.String()
    size = fields.Integer()
