"""The parts catalogue's RPC contract: what workshops ask (the gateway checks and documents with these schemas)
and what they are answered; a leaf, with the words it needs."""
from marshmallow import fields, validate

from services.shared.schemas import Input, MirrorPage, MirrorQuery, Output, Text, mirror_changes

LANGUAGES = ("en", "de")
INTERCHANGEABILITY = ("both_ways", "one_way", "set_only")
VIN = validate.Regexp(r"^[A-HJ-NPR-Za-hj-npr-z0-9]{17}$", error="17 letters and digits, without I, O and Q.")
NUMBER = validate.Regexp(r"^[0-9 .\-/]{11,20}$", error="a part number: 11 digits, with or without spaces")
MAX_QUERY_CHARS = 200
MAX_LINES = 100


class ForCar(Input):
    vin = fields.String(load_default=None, validate=VIN, metadata={"description": "narrow to what fits this car"})
    language = fields.String(load_default="en", validate=validate.OneOf(LANGUAGES))


class CatalogueQuery(ForCar):
    series = fields.String(load_default=None, validate=validate.Regexp(r"^[A-Z0-9]{2,6}$", error="a series such as "
                                                                                                "G20"),
                           metadata={"description": "without a VIN: the series to show"})


class PartQuery(ForCar):
    pass


class IllustrationQuery(ForCar):
    explain = fields.Boolean(load_default=False, metadata={
        "description": "with a VIN: also the rows that do not fit the car, each with why"})


class SearchQuery(ForCar):
    q = fields.String(required=True, validate=validate.Length(1, MAX_QUERY_CHARS), metadata={
        "description": "a part's name in English or German (typos forgiven), or a part number"})
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100))
    size = fields.Integer(load_default=20, validate=validate.Range(1, 50))


class Line(Input):
    number = fields.String(required=True, validate=NUMBER)
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(1, 999))


class QuoteInput(Input):
    """Parts for a car at the workshop's prices (the job card's estimate)."""
    vin = fields.String(required=True, validate=VIN)
    lines = fields.List(fields.Nested(Line), required=True, validate=validate.Length(max=MAX_LINES))


class PartsRequestInput(Input):
    """A parts list sent to a dealer: the car, the parts, the job it is for."""
    vin = fields.String(required=True, validate=VIN)
    lines = fields.List(fields.Nested(Line), required=True, validate=validate.Length(1, MAX_LINES))
    job_id = fields.String(load_default=None, validate=validate.Length(1, 36))
    note = Text(1000, required=False, load_default="", lines=True, empty=True)


# ---- answers ----

class Name(Output):
    en = fields.String()
    de = fields.String()


class IllustrationSeen(Output):
    id = fields.String()
    title = fields.String()
    rows = fields.Integer(metadata={"description": "catalogue rows fitting the car (all without a VIN)"})


class Subgroup(Output):
    id = fields.String()
    name = fields.String()
    illustrations = fields.List(fields.Nested(IllustrationSeen))


class Group(Output):
    id = fields.String()
    name = fields.String()
    subgroups = fields.List(fields.Nested(Subgroup))


class SeriesSeen(Output):
    code = fields.String()
    name = fields.String()


class Offer(Output):
    message = fields.String()
    tariffs = fields.List(fields.Dict())


class Groups(Output):
    catalogue = fields.String(metadata={"description": "the catalogue's name and version"})
    vin = fields.String(allow_none=True)
    series = fields.String(allow_none=True, metadata={"description": "the series shown"})
    car = fields.Dict(allow_none=True, metadata={"description": "with access: series, model, engine, built, options"})
    narrowed = fields.Boolean(metadata={"description": "only what fits the car's build data is shown"})
    whole_series = fields.Boolean(metadata={
        "description": "the VIN's car has no build data in the registry: the whole catalogue of its series"})
    message = fields.String(allow_none=True, metadata={"description": "why the catalogue is not narrowed to the car"})
    access = fields.Boolean(metadata={"description": "part numbers and prices are shown"})
    groups = fields.List(fields.Nested(Group))
    offer = fields.Nested(Offer, allow_none=True, metadata={"description": "without access: what opens numbers"})
    series_list = fields.List(fields.Nested(SeriesSeen), metadata={"description": "the catalogue's series"})


class Step(Output):
    old = fields.String()
    new = fields.String()
    interchangeability = fields.String(metadata={"description": "both_ways, one_way or set_only"})
    words = fields.String()


class Price(Output):
    country = fields.String()
    net_cents = fields.Integer()
    vat_rate = fields.String()
    gross_cents = fields.Integer()
    currency = fields.String()


class Kit(Output):
    number = fields.String()
    written = fields.String()
    name = fields.String(allow_none=True)


class Row(Output):
    callout = fields.Integer()
    name = fields.String()
    quantity = fields.Integer()
    note = fields.String(allow_none=True)
    number = fields.String(allow_none=True, metadata={"description": "with access: as printed in the catalogue"})
    current = fields.String(allow_none=True, metadata={"description": "with access: what the number leads to now"})
    written = fields.String(allow_none=True, metadata={"description": "the current number, written 12 13 8 616 153"})
    chain = fields.List(fields.Nested(Step), metadata={"description": "old numbers to the current one"})
    kit = fields.Nested(Kit, allow_none=True, metadata={"description": "sold only in this kit"})
    price = fields.Nested(Price, allow_none=True, metadata={"description": "with access: the workshop's country's"})
    fits = fields.Boolean()
    left_out_because = fields.String(allow_none=True)


class Hotspot(Output):
    callout = fields.Integer()
    x = fields.Float()
    y = fields.Float()


class IllustrationOut(Output):
    id = fields.String()
    title = fields.String()
    series = fields.String()
    group = fields.String(allow_none=True)
    subgroup = fields.String()
    subgroup_name = fields.String(allow_none=True)
    image_url = fields.String(metadata={"description": "the drawing (SVG served as an image: no code runs)"})
    width = fields.Float()
    height = fields.Float()
    hotspots = fields.List(fields.Nested(Hotspot))
    rows = fields.List(fields.Nested(Row))
    access = fields.Boolean()
    vin = fields.String(allow_none=True)
    car = fields.Dict(allow_none=True, metadata={"description": "with access: series, model, engine, built, options"})
    narrowed = fields.Boolean()
    message = fields.String(allow_none=True)
    offer = fields.Nested(Offer, allow_none=True)


class Usage(Output):
    illustration = fields.String()
    title = fields.String()
    callout = fields.Integer()
    fits = fields.Boolean(allow_none=True)


class KitLine(Output):
    number = fields.String()
    written = fields.String()
    quantity = fields.Integer()
    name = fields.String()


class PartOut(Output):
    number = fields.String()
    written = fields.String()
    name = fields.String()
    asked = fields.String(metadata={"description": "the number asked for, when it led to this one"})
    chain = fields.List(fields.Nested(Step))
    weight_g = fields.Integer(allow_none=True)
    price = fields.Nested(Price, allow_none=True)
    kit = fields.Nested(Kit, allow_none=True, metadata={"description": "sold only in this kit"})
    contents = fields.List(fields.Nested(KitLine), metadata={"description": "a kit: what it holds"})
    used_in = fields.List(fields.Nested(Usage))
    fits = fields.Boolean(allow_none=True, metadata={"description": "with a VIN: whether some row of it fits"})
    vin = fields.String(allow_none=True)


class PartHit(Output):
    number = fields.String(allow_none=True, metadata={"description": "with access"})
    written = fields.String(allow_none=True)
    name = fields.String()
    asked = fields.String(allow_none=True, metadata={"description": "a number typed that led to this one"})
    illustration = fields.String(allow_none=True)
    title = fields.String(allow_none=True)
    callout = fields.Integer(allow_none=True)


class PartsFound(Output):
    total = fields.Integer()
    page = fields.Integer()
    hits = fields.List(fields.Nested(PartHit))
    access = fields.Boolean()
    offer = fields.Nested(Offer, allow_none=True)


class QuoteLine(Output):
    number = fields.String()
    written = fields.String()
    name = fields.String()
    quantity = fields.Integer()
    unit_net_cents = fields.Integer()
    net_cents = fields.Integer()
    vat_rate = fields.String()
    vat_cents = fields.Integer()
    gross_cents = fields.Integer()
    asked = fields.String(allow_none=True, metadata={"description": "the number asked for, when superseded"})


class Quote(Output):
    lines = fields.List(fields.Nested(QuoteLine))
    net_cents = fields.Integer()
    vat_cents = fields.Integer()
    gross_cents = fields.Integer()


class PartsRequestOut(Output):
    id = fields.String()
    vin = fields.String()
    job_id = fields.String(allow_none=True)
    note = fields.String()
    lines = fields.List(fields.Nested(QuoteLine))
    net_cents = fields.Integer()
    requested_at = fields.AwareDateTime()


class PartsRequestList(Output):
    requests = fields.List(fields.Nested(PartsRequestOut))


ExportQuery = MirrorQuery  # where a partner's mirror of the parts catalogue stands, and its series
ChangesQuery = MirrorPage  # a page of the catalogue's changes after a cursor (part numbers by revision)


class UseOut(Output):
    illustration = fields.String()
    subgroup = fields.String()
    series = fields.String()
    callout = fields.Integer()
    quantity = fields.Integer()
    validity = fields.Dict(metadata={"description": "series, models, engines, produced_from/until, "
                                                    "with/without_options: which cars the row is for"})
    remark_en = fields.String(allow_none=True)
    remark_de = fields.String(allow_none=True)


class KitContentOut(Output):
    number = fields.String()
    quantity = fields.Integer()


class ExportedPart(Output):
    """A part number as a mirror keeps it; a tombstone (it left the catalogue) has `deleted` only."""
    cursor = fields.String(metadata={"description": "resume after this line with `after=`"})
    id = fields.String(metadata={"description": "the part number, as the mirror keys it"})
    deleted = fields.Boolean(metadata={"description": "no longer in the catalogue: remove it from the mirror"})
    number = fields.String()
    name_en = fields.String()
    name_de = fields.String()
    weight_g = fields.Integer(allow_none=True)
    prices = fields.Dict(keys=fields.String(), values=fields.Integer(),
                         metadata={"description": "net price in cents, by country"})
    kit = fields.String(allow_none=True, metadata={"description": "sold only in this kit"})
    kit_contents = fields.List(fields.Nested(KitContentOut))
    superseded_by = fields.String(allow_none=True)
    interchangeability = fields.String(allow_none=True)
    used_in = fields.List(fields.Nested(UseOut))


PartChanges = mirror_changes(ExportedPart, "PartChanges")
