"""Schema basics every service's RPC contract shares: strict input (unknown fields rejected) and a load that
raises the typed InvalidInput naming each field and rule."""
from marshmallow import RAISE, Schema, ValidationError, fields, validate

from services.shared.errors import from_validation_error


class Input(Schema):
    class Meta:
        unknown = RAISE


class Empty(Input):
    """A body that must be empty or `{}`."""


class Output(Schema):
    pass


def load(schema_cls, payload, **kwargs):
    try:
        return schema_cls(**kwargs).load(payload if payload is not None else {})
    except ValidationError as exc:
        raise from_validation_error(exc)


def Text(max_length, required=True, **kwargs):
    """A trimmed-length string: no blank value, no over-long one."""
    return fields.String(required=required, validate=validate.Length(min=1, max=max_length), **kwargs)
