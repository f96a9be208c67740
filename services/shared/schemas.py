"""Schema basics every service's RPC contract shares: strict input (unknown fields rejected) and a load that
raises the typed InvalidInput naming each field and rule."""
import re

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


# Characters no name has: controls (NUL among them) and the ones that turn text around (bidi overrides and
# isolates, which make "exe.pdf" read as "fdp.exe").
DIRECTION = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff"
ONE_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f{DIRECTION}]")
LINES = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{DIRECTION}]")  # a text of several lines keeps \t and \n


def _printable(pattern, words):
    def check(text):
        if pattern.search(text):
            raise ValidationError(f"Must not contain {words} or characters that change the text's direction.")
        return True
    return check


def Text(max_length, required=True, lines=False, empty=False, **kwargs):
    """A name or a line of text (`lines=True`: several lines): not blank (unless `empty`: an optional text whose
    default is ""), not over-long, no control (NUL among them) or direction-changing characters."""
    printable = (_printable(LINES, "control characters (NUL among them)") if lines
                 else _printable(ONE_LINE, "control characters (NUL, line breaks, tabs)"))
    return fields.String(required=required, validate=[validate.Length(min=0 if empty else 1, max=max_length),
                                                      printable], **kwargs)


class MirrorQuery(Input):
    """What a partner asks an export or a change feed for: where its mirror stands (the last cursor it applied),
    and the series it keeps."""
    after = fields.Integer(load_default=0, validate=validate.Range(min=0),
                           metadata={"description": "the cursor: the last line's `cursor` the mirror applied"})
    series = fields.String(load_default=None, validate=validate.Regexp(r"^[A-Z0-9]{2,6}$", error="a series such "
                                                                                                  "as G20"),
                           metadata={"description": "only what belongs to this series"})


class MirrorPage(MirrorQuery):
    """A page of a service's changes after a cursor, as the gateway asks it: an export (what is current) or a feed
    (withdrawn ones as tombstones too)."""
    tombstones = fields.Boolean(load_default=False)
    limit = fields.Integer(load_default=500, validate=validate.Range(1, 1000))


def mirror_changes(line, name):
    """The answer to a MirrorPage (services.shared.mirror.page): its lines, each a `line`, the cursor after them,
    the data's newest revision, and whether more follow."""
    return Output.from_dict({
        "items": fields.List(fields.Nested(line)),
        "next": fields.Integer(metadata={"description": "the cursor after this page"}),
        "latest": fields.Integer(metadata={"description": "the data's newest revision now"}),
        "more": fields.Boolean()}, name=name)
