"""Vehicle data's facts: a car's data read, a service record added. Each fact's one contract, which its publisher and
every consumer import (the whole catalogue: services/catalogue.py)."""
from marshmallow import fields, validate

from services.shared.events import Contract, Id, Vin, When, facts


class VehicleViewed(Contract):
    """What a workshop read of a car beyond its VIN (the audit trail records every such read)."""
    operator_id = Id()
    user_id = Id()
    vin = Vin(required=True)
    view = fields.String(required=True, validate=validate.OneOf(("build_data", "service_history", "maintenance",
                                                                 "campaigns")))
    viewed_at = When()


class VehiclesExported(Contract):
    """A page of the registry a workshop (or its API key) took for a mirror: how many cars, of which series."""
    operator_id = Id()
    user_id = Id()
    series = fields.String(allow_none=True, required=True)
    vehicles = fields.Integer(required=True, validate=validate.Range(min=1))
    after = fields.Integer(required=True, validate=validate.Range(min=0))
    until = fields.Integer(required=True, validate=validate.Range(min=0))
    exported_at = When()


class ServiceRecordAdded(Contract):
    record_id = Id()
    vin = Vin(required=True)
    operator_id = Id()
    performed_on = fields.Date(required=True)
    odometer_km = fields.Integer(required=True, validate=validate.Range(min=0))
    work_codes = fields.List(fields.String(), required=True)


class OptionRetrofitted(Contract):
    vin = Vin(required=True)
    option = fields.String(required=True)
    order_version = fields.Integer(required=True, validate=validate.Range(min=1))
    operator_id = Id()
    user_id = Id()
    retrofitted_at = When()


class EcuReplaced(Contract):
    vin = Vin(required=True)
    address = fields.String(required=True)
    name = fields.String(required=True)
    old_hardware_part_number = fields.String(required=True)
    old_serial_number = fields.String(allow_none=True, load_default=None)
    hardware_part_number = fields.String(required=True)
    serial_number = fields.String(required=True)
    operator_id = Id()
    user_id = Id()
    job_id = Id()
    replaced_at = When()


FACTS = facts(
    "vehicle_data",
    VehicleViewed=(VehicleViewed, "A user read a car's build data, service history, maintenance or campaigns."),
    ServiceRecordAdded=(ServiceRecordAdded, "A workshop recorded service work."),
    VehiclesExported=(VehiclesExported, "A workshop took a page of the registry's build data for a mirror."),
    OptionRetrofitted=(OptionRetrofitted, "A workshop added an option to a car's order: its coding follows it."),
    EcuReplaced=(EcuReplaced, "A workshop replaced a control unit: the registry records the new one."),
)
