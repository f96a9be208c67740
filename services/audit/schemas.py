"""The audit service's RPC contract: the trail's filters and entries, and what a verification found."""
from marshmallow import fields, validate

from services.catalogue import CATALOGUE
from services.shared.schemas import Input, Output

KINDS = tuple(CATALOGUE) + ("TrailExported",)  # every fact the services publish, and the trail's own exports
LIMIT_MAX = 1000


class TrailQuery(Input):
    """Filters of a trail: all optional; newest first."""
    vin = fields.String(load_default=None, validate=validate.Regexp(
        r"^[A-HJ-NPR-Z0-9]{17}$", error="17 capital letters and digits, without I, O and Q."))
    user_id = fields.String(load_default=None, validate=validate.Length(1, 64))
    kind = fields.String(load_default=None, validate=validate.OneOf(KINDS))
    since = fields.AwareDateTime(load_default=None, metadata={"description": "from this instant (ISO 8601)"})
    until = fields.AwareDateTime(load_default=None, metadata={"description": "before this instant (ISO 8601)"})
    limit = fields.Integer(load_default=100, validate=validate.Range(1, LIMIT_MAX))


class StaffTrailQuery(TrailQuery):
    operator_id = fields.String(load_default=None, validate=validate.Length(1, 64), metadata={
        "description": "one workshop's chain (`platform` for facts of no workshop); all without it"})


class EntryOut(Output):
    id = fields.String()
    seq = fields.Integer(metadata={"description": "its place in the workshop's chain"})
    kind = fields.String()
    occurred_at = fields.AwareDateTime()
    recorded_at = fields.AwareDateTime()
    user_id = fields.String(allow_none=True)
    vin = fields.String(allow_none=True)
    summary = fields.String()
    detail = fields.Dict()
    hash = fields.String()


class Trail(Output):
    entries = fields.List(fields.Nested(EntryOut))


class ProblemOut(Output):
    chain = fields.String()
    seq = fields.Integer()
    entry_id = fields.String(allow_none=True)
    problem = fields.String()


class Verification(Output):
    verified = fields.Boolean(metadata={"description": "every chain holds, up to its last signed checkpoint"})
    chains = fields.Integer()
    entries = fields.Integer()
    checkpoints = fields.Integer()
    problems = fields.List(fields.Nested(ProblemOut), metadata={"description": "the first problem of each chain"})
