"""Vehicle data's RPC contract and its feed file's rows; the gateway validates and documents with the same
schemas."""
from marshmallow import fields, validate

from services.shared.schemas import Input, MirrorPage, MirrorQuery, Output, Text, mirror_changes

CODE = validate.Regexp(r"^[A-Z0-9_-]{2,20}$", error="2 to 20 capital letters, digits, _ or -.")


class WorkItem(Input):
    code = fields.String(required=True, validate=CODE)
    text = Text(500, required=False, load_default="", lines=True, empty=True)


class ServiceRecordInput(Input):
    performed_on = fields.Date(required=True, metadata={"description": "the day the work was done (YYYY-MM-DD)"})
    odometer_km = fields.Integer(required=True, strict=True)
    items = fields.List(fields.Nested(WorkItem), required=True, validate=validate.Length(min=1, max=50))
    corrects = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=36), metadata={
        "description": "a record of yours from the last 14 days that this one replaces (a new version)"})


class MaintenanceQuery(Input):
    odometer_km = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(0, 2_000_000),
                                 metadata={"description": "today's reading; default: the highest on record"})


# ---- answers ----

class DecodedVinOut(Output):
    vin = fields.String()
    wmi = fields.String()
    manufacturer = fields.String(allow_none=True)
    country = fields.String(allow_none=True)
    region = fields.String(allow_none=True)
    descriptor = fields.String()
    check_digit = fields.String()
    expected_check_digit = fields.String()
    check_digit_valid = fields.Boolean()
    check_digit_required = fields.Boolean()
    model_year = fields.Integer()
    model_year_candidates = fields.List(fields.Integer())
    plant = fields.String()
    serial = fields.String()


class EcuOut(Output):
    address = fields.String()
    name = fields.String()
    hardware_part_number = fields.String()
    software_version = fields.String()
    serial_number = fields.String(allow_none=True, metadata={"description": "known once a workshop replaced it"})


class ReplacedEcuInput(Input):
    """Programming's word on a unit a workshop fitted: as it identified itself after the restore."""
    address = fields.String(required=True, validate=validate.Regexp(r"^0x[0-9A-F]{2}$"))
    hardware_part_number = fields.String(required=True, validate=validate.Length(1, 20))
    software_version = fields.String(required=True, validate=validate.Length(1, 40))
    serial_number = fields.String(required=True, validate=validate.Length(1, 40))
    old_serial_number = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 40))
    operator_id = fields.String(required=True)
    user_id = fields.String(required=True)
    job_id = fields.String(required=True)


class ReplacedEcuOut(EcuOut):
    vin = fields.String()


class BuildOut(Output):
    series = fields.String()
    model_code = fields.String()
    engine_code = fields.String()
    transmission = fields.String()
    production_date = fields.Date()
    paint = fields.String()
    options = fields.List(fields.String(), metadata={"description": "as built, and as retrofitted since"})
    country = fields.String(allow_none=True, metadata={"description": "the market it was built for"})


class RetrofitOut(Output):
    option = fields.String()
    version = fields.Integer(metadata={"description": "the order's version it made"})
    added_at = fields.DateTime()


class VehicleOrderOut(BuildOut):
    order_version = fields.Integer(metadata={"description": "0 as built, then one more per retrofit"})
    retrofits = fields.List(fields.Nested(RetrofitOut))


class RetrofitInput(Input):
    option = fields.String(required=True, validate=validate.Regexp(
        r"^S[0-9A-Z]{3}$", error="an option code: S and three capital letters or digits, e.g. S3AC"))


class RetrofittedOut(VehicleOrderOut):
    vin = fields.String()


class VehicleOut(Output):
    decoded = fields.Nested(DecodedVinOut)
    registered = fields.Boolean(metadata={"description": "the manufacturer's registry knows this VIN"})
    access = fields.Boolean(metadata={"description": "build data and ECUs are shown: the workshop has access"})
    build = fields.Nested(VehicleOrderOut, allow_none=True)
    ecus = fields.List(fields.Nested(EcuOut), allow_none=True)
    offer = fields.Dict(allow_none=True, metadata={"description": "without access: what to buy to see the rest"})


class ServiceRecordOut(Output):
    record_id = fields.String()
    version = fields.Integer()
    vin = fields.String()
    operator_id = fields.String()
    by_your_workshop = fields.Boolean()
    workshop = fields.Dict(allow_none=True, metadata={"description": "who did the work: name, city, country"})
    performed_on = fields.Date()
    odometer_km = fields.Integer()
    items = fields.List(fields.Dict())
    recorded_at = fields.DateTime()
    first_recorded_at = fields.DateTime()
    correctable_until = fields.DateTime(allow_none=True, metadata={"description": "null: permanent"})
    odometer_discrepancy = fields.Boolean(metadata={"description": "lower than a record dated earlier"})
    versions = fields.List(fields.Dict(), metadata={"description": "earlier versions, oldest first"})


class ServiceHistory(Output):
    vin = fields.String()
    records = fields.List(fields.Nested(ServiceRecordOut))


class DueOut(Output):
    code = fields.String()
    name = fields.String()
    status = fields.String(metadata={"description": "overdue | due_soon | ok"})
    due_km = fields.Integer(allow_none=True)
    due_on = fields.Date(allow_none=True)
    km_left = fields.Integer(allow_none=True)
    days_left = fields.Integer(allow_none=True)
    last_done_on = fields.Date(allow_none=True)
    last_done_km = fields.Integer(allow_none=True)


class MaintenanceOut(Output):
    vin = fields.String()
    series = fields.String()
    odometer_km = fields.Integer()
    as_of = fields.Date()
    items = fields.List(fields.Nested(DueOut))


class CampaignOut(Output):
    code = fields.String()
    kind = fields.String()
    title = fields.String()
    description = fields.String()
    published_on = fields.Date()
    status = fields.String(metadata={"description": "open | done"})
    closed_by_record = fields.String(allow_none=True)


class CampaignList(Output):
    vin = fields.String()
    campaigns = fields.List(fields.Nested(CampaignOut))


# ---- for partners' mirrors: the registry as a stream of changes -------------------------------------------------

ExportQuery = MirrorQuery  # where a partner's mirror of the registry stands, and its series
RegistryQuery = MirrorPage  # a page of the registry's cars after a cursor (by revision; no tombstones: none leaves)


class ExportedVehicle(BuildOut):
    cursor = fields.String(metadata={"description": "resume after this line with `after=`"})
    vin = fields.String()
    deleted = fields.Boolean(metadata={"description": "always false: the registry keeps every car it built"})
    ecus = fields.List(fields.Nested(EcuOut))


RegistryChanges = mirror_changes(ExportedVehicle, "RegistryChanges")


class MaintenanceRule(Output):
    code = fields.String()
    name = fields.String()
    every_km = fields.Integer(allow_none=True)
    every_months = fields.Integer(allow_none=True)


class ExportedSchedule(Output):
    """A maintenance schedule as a mirror keeps it: the `default` every series follows, or a series' own."""
    cursor = fields.String(metadata={"description": "the rules' revision"})
    id = fields.String(metadata={"description": "`default`, or the series"})
    deleted = fields.Boolean()
    series = fields.String(allow_none=True)
    rules = fields.List(fields.Nested(MaintenanceRule), metadata={
        "description": "whichever of every_km and every_months comes first; null: that measure does not apply"})
    warn_km = fields.Integer(metadata={"description": "a rule is coming this many km before it is due"})
    warn_days = fields.Integer(metadata={"description": "a rule is coming this many days before it is due"})


ScheduleChanges = mirror_changes(ExportedSchedule, "ScheduleChanges")
