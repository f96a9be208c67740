"""Parts packages: how the manufacturer's parts catalogue comes into AOS.

A package is a folder, or a zip of that folder (services.shared.importer.Package):

    manifest.json          {"format": "aos-parts/1", "name", "version", "publisher", "created": "YYYY-MM-DD",
                           "series": [{"code": "G20", "name", "models": ["5F31", ...]}], "vin_model": [4, 7]
                           (where a VIN carries the model code: a car the registry does not know is shown its
                           series' whole catalogue)}
    groups.jsonl           a main group a line: {"id": "12", "name": {"en", "de"}, "subgroups": [{"id": "12_13",
                           "name": {"en", "de"}}]}
    parts.jsonl            a part a line: {"number": 11 digits, "name": {"en", "de"}, "weight_g", "prices":
                           {"DE": net cents, ...}, "kit": the kit it is sold in only, or null}
    kits.jsonl             a kit a line (the kit is a part too): {"kit": number, "contents": [{"number", "quantity"}]}
    supersessions.jsonl    {"old", "new", "interchangeability": "both_ways" | "one_way" | "set_only"}
    illustrations.jsonl    an exploded view a line: {"id", "subgroup", "series", "title": {"en", "de"}, "image":
                           "illustrations/<id>.svg", "hotspots": [{"callout", "x", "y"}], "rows": [{"callout",
                           "number", "quantity", "validity": {series, models, engines, produced_from, produced_until,
                           with_options, without_options}, "remark": {"en", "de"} or null}]}
    illustrations/*.svg    the drawings: no script, no event handler, nothing fetched from outside

`check` reads the whole package and lists every problem (`file:line: field: rule`): a malformed line, a number
used and not listed, a hotspot without a row or a row without a hotspot, a supersession that leads a number back to
itself, a drawing that could run code or fetch something; a package with any problem is refused whole and changes
nothing. `import` stores it beside the catalogue workshops read and then makes it the active one in one
transaction (CatalogueImported), so nobody ever reads half of it; the same package again changes nothing.

    python -m services.parts.package check PATH
    python -m services.parts.package import PATH      (make parts-import PACKAGE=PATH)
    python -m deploy.parts OUT [--parts 200000]         (the demo catalogue as a package)
"""
import argparse
import hashlib
import json
import sys
import uuid
from datetime import datetime, timezone

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException
from marshmallow import ValidationError, fields, validate, validates_schema
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import sessionmaker

from services.parts import domain, exports
from services.parts.contracts import FACTS
from services.parts.models import (Catalogue, Group, Illustration, KitContent, OutboxMessage, Part, ProcessedEvent,
                                   Row, Supersession)
from services.parts.schemas import INTERCHANGEABILITY
from services.shared.database import Store
from services.shared.importer import (MAX_LISTED, Package, Problem, Refused, Strict, command, invalid, safe,
                                      text_field)

FORMAT = "aos-parts/1"
FILES = ("groups.jsonl", "parts.jsonl", "kits.jsonl", "supersessions.jsonl", "illustrations.jsonl")
MAX_SVG_BYTES = 2 * 1024 * 1024
CHUNK = 2000
NUMBER = validate.Regexp(rf"^\d{{{domain.NUMBER_DIGITS}}}$", error=f"a part number: {domain.NUMBER_DIGITS} digits")
COUNTRY = validate.Regexp(r"^[A-Z]{2}$", error="a country code such as DE")
OPTION = validate.Regexp(r"^[A-Z0-9]{3,4}$", error="an option code such as S5AC")


def image_key(sha256):
    return f"parts/sha256/{sha256}.svg"


# ---- the format ----------------------------------------------------------------------------------------------------

class Names(Strict):
    en = text_field(200, required=True)
    de = text_field(200, required=True)


SERIES = validate.Regexp(r"^[A-Z0-9]{2,6}$", error="a series such as G20")
MODEL = validate.Regexp(r"^[A-Z0-9]{2,8}$", error="a model such as 5F31")


class SeriesIn(Strict):
    code = fields.String(required=True, validate=SERIES)
    name = text_field(100, required=True)
    models = fields.List(fields.String(validate=MODEL), required=True, validate=validate.Length(min=1))


class Manifest(Strict):
    format = fields.String(required=True, validate=validate.Equal(FORMAT, error=f"must be {FORMAT!r}"))
    name = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9][a-z0-9._-]{0,59}$",
                                                                  error="lower-case letters, digits, . _ -"))
    version = text_field(40, required=True)
    publisher = text_field(200, required=True)
    created = fields.Date(required=True)
    series = fields.List(fields.Nested(SeriesIn), required=True, validate=validate.Length(min=1))
    vin_model = fields.List(fields.Integer(strict=True, validate=validate.Range(4, 8)), required=True,
                            validate=validate.Length(equal=2))

    @validates_schema
    def _vin_model(self, data, **kw):
        first, last = data["vin_model"]
        if last < first:
            raise ValidationError("[first, last] positions of the VIN's descriptor (4 to 8)", "vin_model")


class SubgroupIn(Strict):
    id = fields.String(required=True, validate=validate.Regexp(r"^\d{2}_\d{2}$", error="a subgroup such as 12_13"))
    name = fields.Nested(Names, required=True)


class GroupIn(Strict):
    id = fields.String(required=True, validate=validate.Regexp(r"^\d{2}$", error="a main group such as 12"))
    name = fields.Nested(Names, required=True)
    subgroups = fields.List(fields.Nested(SubgroupIn), required=True, validate=validate.Length(min=1))

    @validates_schema
    def _belong(self, data, **kw):
        strays = [s["id"] for s in data["subgroups"] if not s["id"].startswith(data["id"] + "_")]
        if strays:
            raise ValidationError(f"{', '.join(strays)} belong to another main group", "subgroups")


class PartIn(Strict):
    number = fields.String(required=True, validate=NUMBER)
    name = fields.Nested(Names, required=True)
    weight_g = fields.Integer(load_default=None, allow_none=True, strict=True, validate=validate.Range(1, 2_000_000))
    prices = fields.Dict(keys=fields.String(validate=COUNTRY), values=fields.Integer(
        strict=True, validate=validate.Range(0, 100_000_000)), required=True, validate=validate.Length(min=1))
    kit = fields.String(load_default=None, allow_none=True, validate=NUMBER)

    @validates_schema
    def _home_price(self, data, **kw):
        if "DE" not in data["prices"]:
            raise ValidationError("needs the home market's (DE) net price", "prices")


class KitLine(Strict):
    number = fields.String(required=True, validate=NUMBER)
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(1, 999))


class KitIn(Strict):
    kit = fields.String(required=True, validate=NUMBER)
    contents = fields.List(fields.Nested(KitLine), required=True, validate=validate.Length(min=1, max=100))


class SupersessionIn(Strict):
    old = fields.String(required=True, validate=NUMBER)
    new = fields.String(required=True, validate=NUMBER)
    interchangeability = fields.String(required=True, validate=validate.OneOf(INTERCHANGEABILITY))

    @validates_schema
    def _itself(self, data, **kw):
        if data["old"] == data["new"]:
            raise ValidationError("a number does not supersede itself", "new")


class Validity(Strict):
    series = fields.List(fields.String(validate=SERIES), load_default=list)
    models = fields.List(fields.String(validate=MODEL), load_default=list)
    engines = fields.List(fields.String(validate=validate.Regexp(r"^[A-Z0-9]{3,12}$",
                                                                 error="an engine such as B48B20")), load_default=list)
    produced_from = fields.Date(load_default=None, allow_none=True)
    produced_until = fields.Date(load_default=None, allow_none=True)
    with_options = fields.List(fields.String(validate=OPTION), load_default=list)
    without_options = fields.List(fields.String(validate=OPTION), load_default=list)

    @validates_schema
    def _range(self, data, **kw):
        if data.get("produced_from") and data.get("produced_until") and data["produced_until"] < data["produced_from"]:
            raise ValidationError("must not be before produced_from", "produced_until")
        if set(data["with_options"]) & set(data["without_options"]):
            raise ValidationError("an option cannot be asked for and ruled out at once", "without_options")


class RowIn(Strict):
    callout = fields.Integer(required=True, strict=True, validate=validate.Range(1, 999))
    number = fields.String(required=True, validate=NUMBER)
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(1, 999))
    validity = fields.Nested(Validity, load_default=dict)
    remark = fields.Nested(Names, load_default=None, allow_none=True)


class Hotspot(Strict):
    callout = fields.Integer(required=True, strict=True, validate=validate.Range(1, 999))
    x = fields.Float(required=True, validate=validate.Range(0, 100_000))
    y = fields.Float(required=True, validate=validate.Range(0, 100_000))


class IllustrationIn(Strict):
    id = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9._-]{2,39}$",
                                                               error="3 to 40 letters, digits, . _ -"))
    subgroup = fields.String(required=True, validate=validate.Regexp(r"^\d{2}_\d{2}$", error="a subgroup"))
    series = fields.String(required=True, validate=SERIES)
    title = fields.Nested(Names, required=True)
    image = fields.String(required=True, validate=validate.Regexp(r"^illustrations/[A-Za-z0-9._-]{1,80}\.svg$",
                                                                  error="an SVG under illustrations/"))
    hotspots = fields.List(fields.Nested(Hotspot), required=True, validate=validate.Length(min=1, max=200))
    rows = fields.List(fields.Nested(RowIn), required=True, validate=validate.Length(min=1, max=500))

    @validates_schema
    def _callouts(self, data, **kw):
        spots = [h["callout"] for h in data["hotspots"]]
        rowed = {r["callout"] for r in data["rows"]}
        if len(spots) != len(set(spots)):
            raise ValidationError("a callout has one hotspot", "hotspots")
        without_row = sorted(set(spots) - rowed)
        if without_row:
            raise ValidationError(f"callout {', '.join(map(str, without_row))} has a hotspot and no row", "hotspots")
        without_spot = sorted(rowed - set(spots))
        if without_spot:
            raise ValidationError(f"callout {', '.join(map(str, without_spot))} has a row and no hotspot", "rows")


SCHEMAS = {"groups.jsonl": GroupIn(), "parts.jsonl": PartIn(), "kits.jsonl": KitIn(),
           "supersessions.jsonl": SupersessionIn(), "illustrations.jsonl": IllustrationIn()}
KEYS = {"groups.jsonl": "id", "parts.jsonl": "number", "kits.jsonl": "kit", "supersessions.jsonl": "old",
        "illustrations.jsonl": "id"}


# ---- drawings that cannot run code -----------------------------------------------------------------------------------

SVG = "{http://www.w3.org/2000/svg}"
REFUSED_ELEMENTS = {"script", "foreignObject", "iframe", "embed", "object", "audio", "video", "animate", "set",
                    "animateTransform", "animateMotion", "handler", "listener"}


def drawing_problems(data):
    """Why an SVG may not be shown to workshops (empty when it may), and its width and height: it is served as an
    image, and must hold nothing that runs (script, event handlers, animation that rewrites links) or fetches from
    outside (links, images, fonts or styles not in the drawing itself)."""
    if len(data) > MAX_SVG_BYTES:
        return [f"{len(data)} bytes: at most {MAX_SVG_BYTES}"], None
    try:
        root = ElementTree.fromstring(data, forbid_dtd=True)
    except (DefusedXmlException, ElementTree.ParseError, ValueError) as exc:
        return [f"not a well-formed SVG without a DTD or entities: {exc}"], None
    if root.tag != f"{SVG}svg":
        return ["the root element is not <svg> in the SVG namespace"], None
    problems = []
    for element in root.iter():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag in REFUSED_ELEMENTS:
            problems.append(f"holds <{tag}>: no script, embedded document or animation")
        for name, value in element.attrib.items():
            bare = name.rsplit("}", 1)[-1].lower()
            if bare.startswith("on"):
                problems.append(f"<{tag}> has an event handler ({bare})")
            if bare == "href" and not value.startswith("#"):
                problems.append(f"<{tag}> links outside the drawing ({value[:60]})")
            if bare == "style" and _outside(value):
                problems.append(f"<{tag}> styles from outside the drawing")
        if tag == "style" and _outside(element.text or ""):
            problems.append("<style> fetches from outside the drawing (url() or @import)")
    return sorted(set(problems)), _size(root)


def _outside(css):
    text = css.lower().replace(" ", "")
    return "@import" in text or "javascript:" in text or any(
        not part.startswith(("#", "'#", '"#')) for part in text.split("url(")[1:])


def _size(root):
    box = (root.get("viewBox") or "").replace(",", " ").split()
    try:
        if len(box) == 4:
            return float(box[2]), float(box[3])
        return float(root.get("width", "").rstrip("px")), float(root.get("height", "").rstrip("px"))
    except ValueError:
        return None


# ---- reading and checking --------------------------------------------------------------------------------------------

def read_manifest(package):
    if package.size("manifest.json") is None:
        raise Refused([Problem("manifest.json", "-", "missing: every package starts with a manifest")], 1)
    try:
        return Manifest().load(json.loads(package.read("manifest.json")))
    except (ValueError, UnicodeDecodeError) as exc:
        raise Refused([Problem("manifest.json", "-", f"not JSON: {exc}")], 1)
    except ValidationError as exc:
        raise Refused(invalid("manifest.json", exc))


def records(package, name):
    """(where, record) for each valid line of one file, and Problems for the others, as they come."""
    if package.size(name) is None:
        if name == "kits.jsonl" or name == "supersessions.jsonl":  # a catalogue may have neither
            return
        yield Problem(name, "-", "missing from the package")
        return
    schema, key = SCHEMAS[name], KEYS[name]
    for number, line in enumerate(package.lines(name), start=1):
        if not line.strip():
            continue
        where = f"{name}:{number}"
        try:
            raw = json.loads(line)
        except ValueError as exc:
            yield Problem(where, "-", f"not JSON: {exc}")
            continue
        try:
            record = schema.load(raw)
        except ValidationError as exc:
            yield from invalid(where, exc, raw.get(key) if isinstance(raw, dict) else None)
            continue
        yield f"{where} ({record[key]})", record


class Checked:
    """What a check found: the problems (the first MAX_LISTED of `total`), and the counts."""

    def __init__(self):
        self.problems, self.total, self.counts = [], 0, dict.fromkeys(FILES, 0)
        self.options = set()  # every option code a row asks for (what a car may lack)

    def __call__(self, problem):
        self.total += 1
        if len(self.problems) < MAX_LISTED:
            self.problems.append(problem)


def check(package):
    """Every problem of the package, and its manifest and counts: the whole of it is read, nothing stored."""
    manifest = read_manifest(package)
    found = Checked()
    series = {s["code"] for s in manifest["series"]}
    subgroups, numbers, kits, sold_in, superseded_by, seen_images = set(), set(), {}, {}, {}, {}
    for name in FILES:
        first = {}
        for item in records(package, name):
            if isinstance(item, Problem):
                found(item)
                continue
            where, record = item
            found.counts[name] += 1
            key = record[KEYS[name]]
            if key in first:
                found(Problem(where, KEYS[name], f"appears twice: first on {first[key]}"))
            first.setdefault(key, where.split(" ")[0])
            if name == "groups.jsonl":
                subgroups.update(s["id"] for s in record["subgroups"])
            elif name == "parts.jsonl":
                numbers.add(key)
                if record["kit"]:
                    sold_in[key] = (where, record["kit"])
            elif name == "kits.jsonl":
                kits[key] = record["contents"]
                _known(found, where, numbers, [("kit", key)] + [(f"contents.{i}.number", c["number"])
                                                                 for i, c in enumerate(record["contents"])])
            elif name == "supersessions.jsonl":
                superseded_by[key] = (record["new"], record["interchangeability"])
                _known(found, where, numbers, [("old", key), ("new", record["new"])])
            else:
                _illustration(package, found, where, record, subgroups, numbers, seen_images)
                if record["series"] not in series:
                    found(Problem(where, "series", f"{record['series']} is not a series of the manifest"))
    for number, (where, kit) in sold_in.items():
        if kit not in kits:
            found(Problem(where, "kit", f"{kit} is not a kit of kits.jsonl"))
        elif number not in {c["number"] for c in kits[kit]}:
            found(Problem(where, "kit", f"kit {kit} does not hold this part"))
    loop = domain.cycle(superseded_by)
    if loop:
        found(Problem("supersessions.jsonl", "-", "leads a number back to itself: " + " -> ".join(loop)))
    if not found.counts["illustrations.jsonl"] and not found.total:
        found(Problem("illustrations.jsonl", "-", "holds no illustrations"))
    return manifest, found


def _known(found, where, numbers, pairs):
    for field, number in pairs:
        if number not in numbers:
            found(Problem(where, field, f"{number} is not a part of parts.jsonl"))


def _illustration(package, found, where, record, subgroups, numbers, seen_images):
    if record["subgroup"] not in subgroups:
        found(Problem(where, "subgroup", f"{record['subgroup']} is not a subgroup of groups.jsonl"))
    _known(found, where, numbers, [(f"rows.{i}.number", r["number"]) for i, r in enumerate(record["rows"])])
    found.options.update(o for r in record["rows"] for o in r["validity"]["with_options"])
    image = record["image"]
    if image in seen_images:
        return
    if not safe(image) or package.size(image) is None:
        found(Problem(where, "image", f"{image} is not in the package"))
        return
    problems, size = drawing_problems(package.read(image))
    for problem in problems:
        found(Problem(image, "-", problem))
    if not problems and size is None:
        found(Problem(image, "-", "says neither its viewBox nor its width and height"))
    seen_images[image] = size


# ---- importing -----------------------------------------------------------------------------------------------------

def import_package(path, engine, blobs, now=None):
    """Check the package, then store it beside the active catalogue and make it the active one (see the module's
    doc). Raises Refused with every problem. Returns (catalogue id, what happened)."""
    package = Package(path)
    manifest, found = check(package)
    if found.total:
        raise Refused(found.problems, found.total)
    Session = sessionmaker(engine, expire_on_commit=False)
    now = now or datetime.now(timezone.utc)
    with Session() as session, session.begin():
        same = session.scalar(select(Catalogue).where(Catalogue.name == manifest["name"],
                                                      Catalogue.version == manifest["version"]))
        if same is not None and same.active:
            return same.id, "unchanged"
        if same is not None:  # an import cut off before it was made active: done again
            _drop(session, same.id)
        catalogue = Catalogue(id=str(uuid.uuid4()), name=manifest["name"], version=manifest["version"],
                              publisher=manifest["publisher"], imported_at=now, active=False,
                              parts=found.counts["parts.jsonl"], rows=0, vin_model=manifest["vin_model"],
                              options=sorted(found.options),
                              series={s["code"]: {"name": s["name"], "models": s["models"]}
                                      for s in manifest["series"]})
        session.add(catalogue)
    rows = _store(Session, package, blobs, catalogue.id)
    store = Store(Session, OutboxMessage, ProcessedEvent, on_commit=lambda emitted: None, facts=FACTS)
    with store.transaction() as uow:  # the switch: one transaction, and the fact with it
        s = uow.session
        s.execute(update(Catalogue).where(Catalogue.id == catalogue.id).values(rows=rows))
        s.execute(update(Catalogue).where(Catalogue.active.is_(True)).values(active=False))
        s.execute(update(Catalogue).where(Catalogue.id == catalogue.id).values(active=True))
        exports.revise(s, catalogue.id)  # partners' feeds move with the switch, not before or after it
        uow.emit("CatalogueImported", {"catalogue_id": catalogue.id, "name": catalogue.name,
                                       "version": catalogue.version, "parts": catalogue.parts, "rows": rows,
                                       "imported_at": now}, subject=catalogue.id)
    with Session() as session, session.begin():  # the one before stays for readers in flight; older ones go
        kept = session.scalars(select(Catalogue.id).order_by(Catalogue.imported_at.desc()).limit(2)).all()
        for old in session.scalars(select(Catalogue.id).where(Catalogue.id.not_in(kept))).all():
            _drop(session, old)
    return catalogue.id, f"{manifest['name']}@{manifest['version']}: {catalogue.parts} parts, {rows} rows imported"


def _drop(session, catalogue_id):
    for model in (Row, Part, KitContent, Supersession, Illustration, Group):
        session.execute(delete(model).where(model.catalogue_id == catalogue_id))
    session.execute(delete(Catalogue).where(Catalogue.id == catalogue_id))


def _store(Session, package, blobs, cid):
    """Every record of the (checked) package under catalogue `cid`, in chunks; returns the rows stored."""
    rows, stored = 0, {}
    for name in FILES:
        chunk = []
        for position, record in enumerate(checked_records(package, name)):
            chunk += _tables(package, blobs, stored, cid, name, record, position)
            if len(chunk) >= CHUNK:
                rows += _insert(Session, chunk)
                chunk = []
        rows += _insert(Session, chunk)
    return rows


def checked_records(package, name):
    """The records of a file `check` passed, as they are written: its checks are not run twice (they are what
    takes the time)."""
    if package.size(name) is None:
        return
    for line in package.lines(name):
        if line.strip():
            yield json.loads(line)


def _insert(Session, chunk):
    by_table = {}
    for model, values in chunk:
        by_table.setdefault(model, []).append(values)
    with Session() as session, session.begin():
        for model, values in by_table.items():
            session.execute(insert(model), values)
    return len(by_table.get(Row, []))


def _tables(package, blobs, stored, cid, name, r, position):
    """The table rows of the `position`th record of a (checked) file: [(model, values)]. `stored`: the drawings
    this import put in object storage already, with their sizes."""
    if name == "groups.jsonl":
        return [(Group, {"catalogue_id": cid, "id": r["id"], "parent": None, "name_en": r["name"]["en"],
                         "name_de": r["name"]["de"], "position": int(r["id"])})] + [
            (Group, {"catalogue_id": cid, "id": s["id"], "parent": r["id"], "name_en": s["name"]["en"],
                     "name_de": s["name"]["de"], "position": i}) for i, s in enumerate(r["subgroups"])]
    if name == "parts.jsonl":
        return [(Part, {"catalogue_id": cid, "number": r["number"], "name_en": r["name"]["en"],
                        "name_de": r["name"]["de"], "weight_g": r.get("weight_g"), "prices": r["prices"],
                        "kit": r.get("kit")})]
    if name == "kits.jsonl":
        return [(KitContent, {"catalogue_id": cid, "kit": r["kit"], "number": c["number"], "quantity": c["quantity"]})
                for c in r["contents"]]
    if name == "supersessions.jsonl":
        return [(Supersession, {"catalogue_id": cid, "old": r["old"], "new": r["new"],
                                "interchangeability": r["interchangeability"]})]
    data = package.read(r["image"])
    digest = hashlib.sha256(data).hexdigest()
    if digest not in stored:
        blobs.put_once(image_key(digest), data, "image/svg+xml")
        stored[digest] = drawing_problems(data)[1]
    width, height = stored[digest]
    return [(Illustration, {"catalogue_id": cid, "id": r["id"], "subgroup": r["subgroup"], "series": r["series"],
                            "title_en": r["title"]["en"], "title_de": r["title"]["de"], "image_key": image_key(digest),
                            "width": width, "height": height, "hotspots": r["hotspots"], "position": position})] + [
        (Row, {"catalogue_id": cid, "illustration": r["id"], "callout": row["callout"], "number": row["number"],
               "quantity": row["quantity"], "validity": _validity(row.get("validity") or {}),
               "remark_en": row["remark"]["en"] if row.get("remark") else None,
               "remark_de": row["remark"]["de"] if row.get("remark") else None}) for row in r["rows"]]


def _validity(v):
    """A row's validity as stored: only what narrows it (dates as YYYY-MM-DD, as the package writes them)."""
    return {k: v[k] for k in ("series", "models", "engines", "produced_from", "produced_until", "with_options",
                              "without_options") if v.get(k)}


# ---- the command line ------------------------------------------------------------------------------------------------

def main(argv):
    parser = argparse.ArgumentParser(prog="python -m services.parts.package", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("check", help="list every problem of a package").add_argument("path")
    commands.add_parser("import", help="check, then import a package").add_argument("path")
    args = parser.parse_args(argv)
    return command(lambda: _check(args.path) if args.command == "check" else _import(args.path))


def _check(path):
    manifest, found = check(Package(path))
    if found.total:
        raise Refused(found.problems, found.total)
    return (f"{manifest['name']}@{manifest['version']}: {found.counts['parts.jsonl']} parts, "
            f"{found.counts['illustrations.jsonl']} illustrations, no problems")


def _import(path):
    from services.shared import blobs, config
    from services.shared.database import make_engine
    conf = config.load()
    store = blobs.from_config(conf)
    store.ensure_bucket()
    engine = make_engine(config.database_url(conf["ENVIRONMENT"], "parts"))
    try:
        return import_package(path, engine, store)[1]
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
