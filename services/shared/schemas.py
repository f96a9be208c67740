"""Schema basics every service's RPC contract shares: strict input (unknown fields rejected) and a load that
raises the typed InvalidInput naming each field and rule."""
from marshmallow import RAISE, Schema, ValidationError, fields, validate

from services.shared.errors import from_validation_error


class Input(Schema):
    class Meta:
        unknown = RAISE


class Empty(Input):
    """A body that must be empty or `{}`."""


class IdempotencyKey(Input):
    """The `Idempotency-Key` header of every request that must happen once (purchases, top-ups, orders)."""
    key = fields.String(required=True, validate=validate.Regexp(
        r"^[\x21-\x7e]{1,100}$", error="1 to 100 visible ASCII characters, e.g. a UUID."))


class Output(Schema):
    pass


_instances = {}


def instance(schema_cls):
    """One instance per schema class: building a marshmallow schema costs ten times a dump."""
    schema = _instances.get(schema_cls)
    if schema is None:
        schema = _instances[schema_cls] = schema_cls()
    return schema


def load(schema_cls, payload):
    try:
        return instance(schema_cls).load(payload if payload is not None else {})
    except ValidationError as exc:
        raise from_validation_error(exc)


def dump(schema_cls, data):
    return instance(schema_cls).dump(data)


def Text(max_length, required=True, **kwargs):
    """A trimmed-length string: no blank value, no over-long one."""
    return fields.String(required=required, validate=validate.Length(min=1, max=max_length), **kwargs)
