"""Content packages: how the manufacturer's technical information comes into AIR.

A package is a folder, or a zip of that folder:

    manifest.json     {"format": "aos-content/1", "name": "...", "version": "...", "publisher": "...",
                       "created": "YYYY-MM-DD", "documents": "documents.jsonl", "withdrawn": ["id", ...]}
    documents.jsonl   one document per line (DocumentIn below: id, type, title, system, language, version,
                      valid_from, codes, applicability, body, binaries)
    binaries/...      SVG wiring diagrams, PDFs, pictures, each named by a document's `binaries[].file`

`check` reads the whole package and lists every problem (file:line: field: rule, services.shared.importer); a
package with any problem is refused whole and changes nothing. `import` then stores it idempotently: a document is
created, updated when the package carries a newer version, and left alone otherwise; binaries go to object storage
under their SHA-256. A document the manifest lists as `withdrawn` leaves search and reading, and stays as a
tombstone for partners' change feed. Every change takes the library's next revision.
The search index catches up from the documents' revisions (services.air.dependencies.catch_up).

    python -m services.air.content check PATH
    python -m services.air.content import PATH      (make air-import PACKAGE=PATH)
    python -m deploy.corpus OUT --documents 100000   (the demo corpus as a package: make air-corpus)
"""
import argparse
import hashlib
import json
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import PurePosixPath

from marshmallow import ValidationError, fields, validate, validates_schema
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from services.air import domain
from services.air.models import Document
from services.shared.importer import (MAX_LISTED, Package, Problem, Refused, Strict, command,  # noqa: F401
                                      invalid, safe as _safe, text_field)

FORMAT = "aos-content/1"
MEDIA_TYPES = {".svg": "image/svg+xml", ".pdf": "application/pdf", ".png": "image/png", ".jpg": "image/jpeg",
               ".jpeg": "image/jpeg"}
MAX_BINARY_BYTES = 50 * 1024 * 1024
CHUNK = 1000


def blob_key(sha256):
    return f"air/sha256/{sha256}"


# ---- the format ------------------------------------------------------------------------------------------------

def _codes(pattern, error):
    return fields.List(fields.String(validate=validate.Regexp(pattern, error=error)), load_default=list)


class Manifest(Strict):
    format = fields.String(required=True, validate=validate.Equal(FORMAT, error=f"must be {FORMAT!r}"))
    name = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9][a-z0-9._-]{0,59}$",
                                                                  error="lower-case letters, digits, . _ -"))
    version = text_field(40, required=True)
    publisher = text_field(200, required=True)
    created = fields.Date(required=True)
    documents = fields.String(load_default="documents.jsonl")
    # documents the manufacturer takes back: kept for the change feed's tombstones, gone from search and reading
    withdrawn = fields.List(fields.String(validate=validate.Length(1, 64)), load_default=list,
                            validate=validate.Length(max=100_000))


class Applicability(Strict):
    series = _codes(r"^[A-Z0-9]{2,6}$", "a series code such as G20")
    model_codes = _codes(r"^[A-Z0-9]{2,8}$", "a model code such as 5F31")
    engine_codes = _codes(r"^[A-Z0-9]{3,12}$", "an engine code such as B48B20")
    produced_from = fields.Date(load_default=None, allow_none=True)
    produced_until = fields.Date(load_default=None, allow_none=True)

    @validates_schema
    def _range(self, data, **kw):
        if data.get("produced_from") and data.get("produced_until") and data["produced_until"] < data["produced_from"]:
            raise ValidationError("must not be before produced_from", "produced_until")


class Step(Strict):
    text = text_field(4000, required=True)
    tools = fields.List(text_field(120), load_default=list)
    torque_nm = fields.Float(validate=validate.Range(min=0, min_inclusive=False), load_default=None)
    caution = text_field(1000, load_default=None)


class DataItem(Strict):
    item = text_field(200, required=True)
    value = text_field(60, required=True)
    unit = fields.String(validate=validate.Length(max=20), load_default="")


class PartUsed(Strict):
    """A part a repair uses, by the number the parts catalogue prints (services/parts: it leads to the current
    one)."""
    number = fields.String(required=True, validate=validate.Regexp(r"^\d{11}$", error="a part number: 11 digits"))
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(1, 999))


class Body(Strict):
    summary = text_field(4000, required=True)
    parts = fields.List(fields.Nested(PartUsed), load_default=list, validate=validate.Length(max=50))
    steps = fields.List(fields.Nested(Step), load_default=list)
    data = fields.List(fields.Nested(DataItem), load_default=list)
    tools = fields.List(text_field(120), load_default=list)
    notes = fields.List(text_field(2000), load_default=list)


class BinaryRef(Strict):
    file = fields.String(required=True, validate=validate.Regexp(
        r"^binaries/[A-Za-z0-9._/-]{1,200}$", error="a path under binaries/ of letters, digits, . _ - /"))
    title = text_field(200, load_default=None)


class DocumentIn(Strict):
    id = fields.String(required=True, validate=validate.Regexp(
        r"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$", error="3 to 64 letters, digits, . _ -, starting with a letter or digit"))
    type = fields.String(required=True, validate=validate.OneOf(domain.DOCUMENT_TYPES))
    title = text_field(300, required=True)
    system = fields.String(required=True, validate=validate.OneOf(domain.SYSTEMS, error="one of the main groups "
                                                                  "of systems.json, e.g. 11 engine, 34 brakes"))
    language = fields.String(required=True, validate=validate.OneOf(domain.LANGUAGES))
    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    valid_from = fields.Date(required=True)
    codes = _codes(domain.FAULT_CODE.pattern, "a fault code such as P0301")
    applicability = fields.Nested(Applicability, load_default=dict)
    body = fields.Nested(Body, required=True)
    binaries = fields.List(fields.Nested(BinaryRef), load_default=list, validate=validate.Length(max=20))

    @validates_schema
    def _by_type(self, data, **kw):
        if data["type"] == "fault_code" and not data.get("codes"):
            raise ValidationError("a fault code description names at least one code", "codes")
        if data["type"] == "wiring_diagram" and not any(b["file"].endswith(".svg") for b in data.get("binaries", [])):
            raise ValidationError("a wiring diagram carries at least one SVG", "binaries")


@dataclass
class Report:
    """What an import did."""
    package: str = ""
    documents: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    older: int = 0  # the library holds a newer version already
    withdrawn: int = 0
    binaries_stored: int = 0
    problems: list = field(default_factory=list)


# ---- reading a package -----------------------------------------------------------------------------------------

def read_manifest(package):
    if package.size("manifest.json") is None:
        raise Refused([Problem("manifest.json", "-", "missing: every package starts with a manifest")], 1)
    try:
        return Manifest().load(json.loads(package.read("manifest.json")))
    except (ValueError, UnicodeDecodeError) as exc:
        raise Refused([Problem("manifest.json", "-", f"not JSON: {exc}")], 1)
    except ValidationError as exc:
        raise Refused(invalid("manifest.json", exc))


def documents(package, manifest):
    """(line number, document) for each valid line, and Problems for the others, as they come."""
    name = manifest["documents"]
    if not _safe(name) or package.size(name) is None:
        yield Problem("manifest.json", "documents", f"names {name!r}, which is not in the package")
        return
    schema = DocumentIn()
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
            document = schema.load(raw)
        except ValidationError as exc:
            yield from invalid(where, exc, raw.get("id") if isinstance(raw, dict) else None)
            continue
        yield number, document


def check(package, progress=None):
    """Every problem of the package (the first MAX_LISTED, and how many in all) and its document count."""
    manifest = read_manifest(package)
    problems, total, seen, count = [], 0, {}, 0

    def problem(p):
        nonlocal total
        total += 1
        if len(problems) < MAX_LISTED:
            problems.append(p)

    for item in documents(package, manifest):
        if isinstance(item, Problem):
            problem(item)
            continue
        number, document = item
        count += 1
        if progress is not None:
            progress.update(1)
        where = f"{manifest['documents']}:{number} ({document['id']})"
        if document["id"] in seen:
            problem(Problem(where, "id", f"appears twice: first on line {seen[document['id']]}"))
        seen.setdefault(document["id"], number)
        for i, binary in enumerate(document["binaries"]):
            suffix = PurePosixPath(binary["file"]).suffix.lower()
            size = package.size(binary["file"]) if _safe(binary["file"]) else None
            if not _safe(binary["file"]):
                problem(Problem(where, f"binaries.{i}.file", "must stay inside the package: no .. in the path"))
            elif suffix not in MEDIA_TYPES:
                problem(Problem(where, f"binaries.{i}.file", f"must end in one of {', '.join(MEDIA_TYPES)}"))
            elif size is None:
                problem(Problem(where, f"binaries.{i}.file", f"{binary['file']} is not in the package"))
            elif size > MAX_BINARY_BYTES:
                problem(Problem(where, f"binaries.{i}.file", f"{size} bytes: at most {MAX_BINARY_BYTES}"))
    for i, document_id in enumerate(manifest["withdrawn"]):
        if document_id in seen:
            problem(Problem("manifest.json", f"withdrawn.{i}", f"{document_id} is in the package's documents too"))
    if count == 0 and total == 0 and not manifest["withdrawn"]:
        problem(Problem(manifest["documents"], "-", "holds no documents"))
    return manifest, problems, total, count


# ---- importing -------------------------------------------------------------------------------------------------

def import_package(path, engine, blobs, progress=False):
    """Check the package, then store it (see the module's doc). Raises Refused with every problem."""
    package = Package(path)
    bar = _bar(progress, "checking")
    manifest, problems, total, count = check(package, bar)
    if bar is not None:
        bar.close()
    if total:
        raise Refused(problems, total)
    label = f"{manifest['name']}@{manifest['version']}"
    report = Report(package=label, documents=count)
    Session = sessionmaker(engine, expire_on_commit=False)
    stored = set()
    bar = _bar(progress, "importing", count)
    chunk = []
    for item in documents(package, manifest):
        chunk.append(item[1])
        if len(chunk) == CHUNK:
            _store(Session, package, blobs, chunk, label, report, stored)
            if bar is not None:
                bar.update(len(chunk))
            chunk = []
    if chunk:
        _store(Session, package, blobs, chunk, label, report, stored)
        if bar is not None:
            bar.update(len(chunk))
    if bar is not None:
        bar.close()
    _withdraw(Session, manifest["withdrawn"], report)
    return report


def _withdraw(Session, ids, report):
    """Each document named that the library holds, withdrawn with a revision of its own (the change feed's
    tombstone); one withdrawn already, or one the library never held, changes nothing."""
    now = datetime.now(timezone.utc)
    for start in range(0, len(ids), CHUNK):
        with Session() as session, session.begin():
            revision = session.scalar(select(func.max(Document.revision))) or 0
            for row in session.scalars(select(Document).where(Document.id.in_(ids[start:start + CHUNK]),
                                                              Document.withdrawn_at.is_(None))
                                       .order_by(Document.id)):
                revision += 1
                row.withdrawn_at, row.revision = now, revision
                report.withdrawn += 1


def _store(Session, package, blobs, chunk, label, report, stored):
    now = datetime.now(timezone.utc)
    with Session() as session, session.begin():
        held = dict(session.execute(select(Document.id, Document.version)
                                    .where(Document.id.in_([d["id"] for d in chunk]))).all())
        revision = session.scalar(select(func.max(Document.revision))) or 0
        for doc in chunk:
            version = held.get(doc["id"])
            if version is not None and version >= doc["version"]:
                if version == doc["version"]:
                    report.unchanged += 1
                else:
                    report.older += 1
                continue
            revision += 1
            values = dict(type=doc["type"], title=doc["title"], system=doc["system"], language=doc["language"],
                          version=doc["version"], valid_from=doc["valid_from"], codes=doc["codes"],
                          applicability=_applicability(doc["applicability"]), body=_body(doc["body"]),
                          binaries=[_binary(package, blobs, b, stored, report) for b in doc["binaries"]],
                          package=label, revision=revision, imported_at=now, withdrawn_at=None)
            if version is None:
                session.add(Document(id=doc["id"], **values))
                report.created += 1
            else:
                row = session.get(Document, doc["id"])
                for key, value in values.items():
                    setattr(row, key, value)
                report.updated += 1


def _applicability(a):
    return {"series": a.get("series", []), "model_codes": a.get("model_codes", []),
            "engine_codes": a.get("engine_codes", []),
            "produced_from": a["produced_from"].isoformat() if a.get("produced_from") else None,
            "produced_until": a["produced_until"].isoformat() if a.get("produced_until") else None}


def _body(body):
    return {"summary": body["summary"], "notes": body["notes"], "tools": body["tools"], "data": body["data"],
            "parts": body["parts"],
            "steps": [{k: v for k, v in step.items() if v not in (None, [])} for step in body["steps"]]}


def _binary(package, blobs, ref, stored, report):
    data = package.read(ref["file"])
    digest = hashlib.sha256(data).hexdigest()
    media_type = MEDIA_TYPES[PurePosixPath(ref["file"]).suffix.lower()]
    if digest not in stored:
        if blobs.put_once(blob_key(digest), data, media_type):
            report.binaries_stored += 1
        stored.add(digest)
    name = PurePosixPath(ref["file"]).name
    return {"name": name, "title": ref.get("title") or name, "media_type": media_type, "size": len(data),
            "sha256": digest}


def _bar(progress, what, total=None):
    if not progress:
        return None
    from tqdm import tqdm
    return tqdm(total=total, desc=what, unit=" documents", file=sys.stderr, mininterval=0.5)


# ---- the command line ------------------------------------------------------------------------------------------

def main(argv):
    parser = argparse.ArgumentParser(prog="python -m services.air.content", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("check", help="list every problem of a package").add_argument("path")
    commands.add_parser("import", help="check, then import a package").add_argument("path")
    args = parser.parse_args(argv)
    return command(lambda: _check(args.path) if args.command == "check" else _import(args.path))


def _check(path):
    manifest, problems, total, count = check(Package(path), _bar(True, "checking"))
    if total:
        raise Refused(problems, total)
    return f"{manifest['name']}@{manifest['version']}: {count} documents, no problems"


def _import(path):
    report = import_package(path, *_infrastructure(), progress=True)
    return (f"{report.package}: {report.documents} documents: {report.created} new, {report.updated} updated, "
            f"{report.unchanged} unchanged, {report.older} older than the library's, {report.withdrawn} withdrawn; "
            f"{report.binaries_stored} binaries stored")


def _infrastructure():
    from services.shared import blobs, config
    from services.shared.database import make_engine
    conf = config.load()
    store = blobs.from_config(conf)
    store.ensure_bucket()
    return make_engine(config.database_url(conf["ENVIRONMENT"], "air")), store


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
