"""Typed errors a user can act on.

Every service raises these; nameko carries them over RPC by module path and re-raises them typed
on the caller's side, so the gateway maps each to its HTTP status and the JSON error body.
`code` names the rule that was broken (WEAK_PASSWORD, TOTP_CODE_REUSED, ...).
"""
import json

from nameko.exceptions import deserialize_to_instance


class AosError(Exception):
    status = 500

    def __init__(self, code, message, details=None):
        # Details travel as JSON text: nameko's error serializer would turn every value into a string.
        if not isinstance(details, str):
            details = json.dumps(details or {}, default=str)
        super().__init__(code, message, details)

    @property
    def code(self):
        return self.args[0]

    @property
    def message(self):
        return self.args[1]

    @property
    def details(self):
        return json.loads(self.args[2])

    def as_body(self):
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}

    def __str__(self):
        return f"{self.code}: {self.message}"


@deserialize_to_instance
class BadRequest(AosError):
    status = 400


@deserialize_to_instance
class Unauthenticated(AosError):
    status = 401


@deserialize_to_instance
class PaymentRequired(AosError):
    """Not enough credit, or the card was declined: nothing was charged, nothing granted."""
    status = 402


@deserialize_to_instance
class Forbidden(AosError):
    status = 403


@deserialize_to_instance
class NotFound(AosError):
    status = 404


@deserialize_to_instance
class Conflict(AosError):
    status = 409


@deserialize_to_instance
class Gone(AosError):
    """What was asked for is no longer (or never was) there to give: a change feed's cursor, say."""
    status = 410


@deserialize_to_instance
class MethodNotAllowed(AosError):
    status = 405


@deserialize_to_instance
class PayloadTooLarge(AosError):
    status = 413


@deserialize_to_instance
class UnsupportedMediaType(AosError):
    status = 415


@deserialize_to_instance
class InvalidInput(AosError):
    """A field broke a rule; details name the field and the rule."""
    status = 422


@deserialize_to_instance
class TooManyRequests(AosError):
    """Throttled; details carry retry_after_seconds."""
    status = 429


@deserialize_to_instance
class Unavailable(AosError):
    status = 503


def invalid_field(code, field, rule, message, **extra):
    return InvalidInput(code, message, {"field": field, "rule": rule, **extra})


def from_validation_error(exc):
    """A marshmallow ValidationError as one InvalidInput listing every field and its messages."""
    return InvalidInput(
        "VALIDATION_FAILED",
        "Some fields are missing or invalid: " + ", ".join(sorted({path for path, _ in flatten(exc.messages)})),
        {"fields": exc.messages},
    )


def flatten(messages, prefix=""):
    """marshmallow's nested error messages as (dotted path, the messages in words): `lines.0.sku`."""
    if not isinstance(messages, dict):
        yield prefix.rstrip(".") or "-", " ".join(map(str, messages)) if isinstance(messages, list) else str(messages)
        return
    for key, value in messages.items():
        yield from flatten(value, f"{prefix}{key}.")


# Every error a service may raise to its caller; services list it in `expected_exceptions`.
EXPECTED = (AosError,)
