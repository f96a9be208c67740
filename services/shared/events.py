"""Events as every service sends and takes them: the CloudEvents 1.0 envelope, the base of a fact's contract and
its field helpers, and a fact's registration (`facts`). Each service owns its facts' contracts (its contracts.py);
services/catalogue.py puts them all together for whoever needs every one (the audit trail, the AsyncAPI document,
the broker's grants).

An event is published on the topic exchange `<owner>.events` with its type as routing key and the envelope,
as JSON, as the body.
"""
import functools
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from services.shared import logs

SPECVERSION = "1.0"


class InvalidEvent(ValueError):
    """A message that does not match its contract; consumers drop it and count it."""


class Contract(Schema):
    class Meta:
        unknown = RAISE


Id = lambda **kw: fields.String(required=True, validate=validate.Length(1, 64), **kw)  # noqa: E731
Vin = lambda **kw: fields.String(validate=validate.Regexp(r"^[A-HJ-NPR-Z0-9]{17}$"), **kw)  # noqa: E731
When = lambda **kw: fields.AwareDateTime(required=True, **kw)  # noqa: E731
Seconds = lambda **kw: fields.Integer(required=True, validate=validate.Range(min=0), **kw)  # noqa: E731
Cents = lambda **kw: fields.Integer(required=True, validate=validate.Range(min=0), **kw)  # noqa: E731


@dataclass(frozen=True)
class Registration:
    """A fact: its type, the service that owns (and alone publishes) it, its contract, what it says in words."""
    name: str
    owner: str
    schema: type
    summary: str


def facts(owner, **declared):
    """A service's facts, {type: Registration}, from `Type=(contract, summary)`."""
    return {name: Registration(name, owner, schema, summary) for name, (schema, summary) in declared.items()}


class Envelope(Schema):
    """CloudEvents 1.0 attributes, JSON format."""
    class Meta:
        unknown = RAISE

    id = fields.String(required=True, validate=validate.Length(1, 64))
    source = fields.String(required=True, validate=validate.Regexp(r"^/aos/[a-z_]+$"))
    type = fields.String(required=True, validate=validate.Regexp(r"^[A-Z][A-Za-z]+$"))
    specversion = fields.String(required=True, validate=validate.Equal(SPECVERSION))
    time = fields.AwareDateTime(required=True)
    subject = fields.String(allow_none=True, load_default=None)
    datacontenttype = fields.String(load_default="application/json", validate=validate.Equal("application/json"))
    correlationid = fields.String(allow_none=True, load_default=None, metadata={
        "description": "extension attribute: the id of the request that set this fact off, for following it "
                       "across logs"})
    data = fields.Dict(required=True)


@dataclass(frozen=True)
class Event:
    """A received event: envelope attributes plus `data` loaded through its contract."""
    id: str
    type: str
    source: str
    time: datetime
    subject: str | None
    data: dict


ENVELOPE = Envelope()


@functools.cache
def contract(registration):
    """A fact's contract as a schema, made once (marshmallow schemas are reusable): making one for every event
    had been a tenth of a consumer's CPU."""
    return registration.schema()


def as_published(registration, data):
    """A fact's data as its contract writes it on the wire (instants as ISO 8601): JSON types only."""
    return contract(registration).dump(data)


def envelope(registration, data, subject=None, event_id=None, now=None):
    """The JSON-ready envelope for a fact, validated against its contract before it goes anywhere."""
    schema = contract(registration)
    published = schema.dump(data)
    try:
        schema.load(published)  # what a consumer will parse must pass here first
    except ValidationError as exc:
        raise InvalidEvent(f"{registration.name} does not match its contract: {exc.messages}") from exc
    return {
        "id": event_id or str(uuid.uuid4()),
        "source": f"/aos/{registration.owner}",
        "type": registration.name,
        "specversion": SPECVERSION,
        "time": (now or datetime.now(timezone.utc)).isoformat(),
        "subject": subject,
        "datacontenttype": "application/json",
        "correlationid": logs.current(),
        "data": published,
    }


def as_sent(registration, event):
    """A received Event as a CloudEvents envelope again (what a partner's webhook endpoint is sent): the envelope's
    attributes and its data as the contract writes it."""
    return {"specversion": SPECVERSION, "id": event.id, "source": event.source, "type": event.type,
            "time": event.time.isoformat(), "subject": event.subject, "datacontenttype": "application/json",
            "data": as_published(registration, event.data)}


def parse(body, registration):
    """A received body as an Event of the fact `registration` names, or InvalidEvent naming what is wrong."""
    if not isinstance(body, dict):
        raise InvalidEvent("the body is not a JSON object")
    try:
        attrs = ENVELOPE.load(body)
    except ValidationError as exc:
        raise InvalidEvent(f"the envelope is invalid: {exc.messages}") from exc
    if attrs["type"] != registration.name:
        raise InvalidEvent(f"expected {registration.name}, got {attrs['type']}")
    if attrs["source"] != f"/aos/{registration.owner}":
        raise InvalidEvent(f"{attrs['type']} must come from /aos/{registration.owner}, not {attrs['source']}")
    try:
        data = contract(registration).load(attrs["data"])
    except ValidationError as exc:
        raise InvalidEvent(f"{attrs['type']} data is invalid: {exc.messages}") from exc
    return Event(attrs["id"], attrs["type"], attrs["source"], attrs["time"], attrs["subject"], data)
