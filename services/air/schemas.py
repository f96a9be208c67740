"""AIR's RPC contract: the query parameters a workshop sends (validated here, so the gateway documents and checks
them with the same schemas) and the answers."""
import json
from pathlib import Path

from marshmallow import fields, pre_load, validate

from services.shared.schemas import Input, MirrorPage, MirrorQuery, Output, mirror_changes

HERE = Path(__file__).parent
SYSTEMS = json.loads((HERE / "systems.json").read_text())["systems"]

DOCUMENT_TYPES = {
    "repair_instruction": "Repair instruction",
    "wiring_diagram": "Wiring diagram",
    "service_bulletin": "Technical service bulletin",
    "fault_code": "Fault code description",
    "maintenance_instruction": "Maintenance instruction",
    "technical_data": "Technical data",
    "component_location": "Component location",
    "special_tool": "Special tool information",
    "labour_time": "Labour time",
}
LANGUAGES = ("en", "de", "fr", "it", "es", "nl", "pl", "cs", "sv", "pt")
MAX_QUERY_CHARS = 200

PAGE_SIZE_MAX = 50
PAGE_MAX = 100  # 5,000 hits deep: past that, narrow the search
VIN = validate.Regexp(r"^[A-HJ-NPR-Za-hj-npr-z0-9]{17}$", error="17 letters and digits, without I, O and Q.")


class Query(Input):
    """Query-string parameters arrive as lists (a parameter may repeat): one value each, or a clear error."""

    @pre_load
    def _single(self, data, **kw):
        return {k: (v[0] if isinstance(v, list) and len(v) == 1 else v) for k, v in data.items()}


class SearchQuery(Query):
    q = fields.String(load_default=None, validate=validate.Length(min=1, max=MAX_QUERY_CHARS), metadata={
        "description": "words, \"quoted phrases\", fault codes (P0301); at most 200 characters. Without it, "
                       "`type` or `system` browses the navigation's branch"})
    vin = fields.String(load_default=None, validate=VIN, metadata={"description": "only what applies to this car"})
    type = fields.String(load_default=None, validate=validate.OneOf(DOCUMENT_TYPES))
    system = fields.String(load_default=None, validate=validate.OneOf(SYSTEMS, error="a main group: 11, 34, …"))
    language = fields.String(load_default=None, validate=validate.OneOf(LANGUAGES))
    page = fields.Integer(load_default=1, validate=validate.Range(1, PAGE_MAX))
    size = fields.Integer(load_default=10, validate=validate.Range(1, PAGE_SIZE_MAX))


class SuggestQuery(Query):
    q = fields.String(required=True, validate=validate.Length(min=1, max=100))
    vin = fields.String(load_default=None, validate=VIN)
    language = fields.String(load_default=None, validate=validate.OneOf(LANGUAGES))


class DocumentQuery(Query):
    vin = fields.String(load_default=None, validate=VIN, metadata={
        "description": "the car it is opened for: a VIN pass for it opens the document"})


class NavigationQuery(Query):
    vin = fields.String(load_default=None, validate=VIN)
    language = fields.String(load_default=None, validate=validate.OneOf(LANGUAGES))


# ---- answers ----

class CarOnTheLift(Output):
    """The vehicle a search or the navigation was narrowed to."""
    vin = fields.String()
    series = fields.String()
    model_code = fields.String()
    engine_code = fields.String()
    production_date = fields.Date()


class TariffOffer(Output):
    code = fields.String()
    name = fields.String()
    gross_cents = fields.Integer()
    currency = fields.String()


class HitOut(Output):
    id = fields.String()
    type = fields.String()
    system = fields.String()
    title = fields.String()
    title_html = fields.String(allow_none=True, metadata={"description": "the title, matched words in <mark>"})
    snippet = fields.String(allow_none=True, metadata={"description": "HTML, matched words in <mark>; only with access"})
    score = fields.Float()


class Facet(Output):
    value = fields.String()
    label = fields.String()
    count = fields.Integer()


class FacetsOut(Output):
    type = fields.List(fields.Nested(Facet))
    system = fields.List(fields.Nested(Facet))


class SearchOut(Output):
    query = fields.String()
    total = fields.Integer()
    page = fields.Integer()
    pages = fields.Integer()
    size = fields.Integer()
    access = fields.Boolean(metadata={"description": "false: titles only; `offer` says what to buy"})
    vehicle = fields.Nested(CarOnTheLift, allow_none=True)
    hits = fields.List(fields.Nested(HitOut))
    facets = fields.Nested(FacetsOut)
    offer = fields.List(fields.Nested(TariffOffer), allow_none=True)


class Suggestion(Output):
    id = fields.String()
    title = fields.String()


class SuggestOut(Output):
    suggestions = fields.List(fields.Nested(Suggestion))


class StepOut(Output):
    text = fields.String()
    tools = fields.List(fields.String())
    torque_nm = fields.Float()
    caution = fields.String()


class DataOut(Output):
    item = fields.String()
    value = fields.String()
    unit = fields.String()


class PartUsedOut(Output):
    number = fields.String(metadata={"description": "as the parts catalogue prints it: GET /api/v1/parts/parts/"
                                                    "{number}?vin= leads to the current one"})
    quantity = fields.Integer()


class BodyOut(Output):
    summary = fields.String()
    parts = fields.List(fields.Nested(PartUsedOut), metadata={"description": "the parts the repair uses"})
    steps = fields.List(fields.Nested(StepOut))
    data = fields.List(fields.Nested(DataOut))
    tools = fields.List(fields.String())
    notes = fields.List(fields.String())


class BinaryOut(Output):
    name = fields.String()
    title = fields.String()
    media_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    url = fields.String(metadata={"description": "signed, straight from object storage; expires at `expires_at`"})
    expires_at = fields.AwareDateTime()


class ApplicabilityOut(Output):
    series = fields.List(fields.String())
    model_codes = fields.List(fields.String())
    engine_codes = fields.List(fields.String())
    produced_from = fields.String(allow_none=True)
    produced_until = fields.String(allow_none=True)


class DocumentOut(Output):
    id = fields.String()
    type = fields.String()
    type_label = fields.String()
    title = fields.String()
    system = fields.String()
    system_label = fields.String()
    language = fields.String()
    version = fields.Integer()
    valid_from = fields.Date()
    codes = fields.List(fields.String())
    applicability = fields.Nested(ApplicabilityOut)
    body = fields.Nested(BodyOut)
    binaries = fields.List(fields.Nested(BinaryOut))
    vin = fields.String(allow_none=True)


class TypeNode(Output):
    type = fields.String()
    label = fields.String()
    count = fields.Integer()


class SystemCount(Output):
    system = fields.String()
    label = fields.String()
    count = fields.Integer()


class SystemNode(SystemCount):
    types = fields.List(fields.Nested(TypeNode))


class TypeTreeNode(Output):
    type = fields.String()
    label = fields.String()
    count = fields.Integer()
    systems = fields.List(fields.Nested(SystemCount))


class NavigationOut(Output):
    vehicle = fields.Nested(CarOnTheLift, allow_none=True)
    by_system = fields.List(fields.Nested(SystemNode))
    by_type = fields.List(fields.Nested(TypeTreeNode))


# ---- for partners' mirrors: the library as a stream of changes --------------------------------------------------

ExportQuery = MirrorQuery  # where a partner's mirror of the library stands, and its series
ChangesQuery = MirrorPage  # a page of the library's changes after a cursor (documents by revision)


class ExportedDocument(Output):
    """A document as a mirror keeps it: the whole record and its structure; a tombstone has `deleted` only."""
    cursor = fields.String(metadata={"description": "resume after this line with `after=`"})
    id = fields.String()
    deleted = fields.Boolean(metadata={"description": "withdrawn: remove it from the mirror"})
    type = fields.String()
    title = fields.String()
    system = fields.String()
    language = fields.String()
    version = fields.Integer()
    valid_from = fields.Date()
    codes = fields.List(fields.String())
    applicability = fields.Nested(ApplicabilityOut)
    body = fields.Nested(BodyOut)
    binaries = fields.List(fields.Nested(BinaryOut), metadata={"description": "names, types, sizes, SHA-256 (a "
                                                                              "signed link: the document route)"})


ChangesOut = mirror_changes(ExportedDocument, "ChangesOut")
