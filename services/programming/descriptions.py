"""The manufacturer's diagnostic descriptions on the platform: each ECU type's PDX file (ODX, ISO 22901), checked
whole as the workshop's agent would need it (automotive.odx.problems), kept in object storage under its SHA-256,
with what tool makers read of it as a record: fault codes with their texts and test plans, data identifiers with
unit and limits, routines. Partners mirror them (GET /v1/exports/diagnostics, /v1/feeds/diagnostics) and take the
files themselves.

A file delivered again unchanged changes nothing; a changed one gets the next revision; a withdrawn ECU type stays
as a tombstone in the feed. Files with a problem are refused, every problem listed, and nothing is imported.

    python -m services.programming.descriptions import FILE.pdx ...
    python -m services.programming.descriptions withdraw ECU_TYPE
"""
import hashlib
import sys
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from automotive import odx
from services.programming.job_cards import ACCESS
from services.programming.models import DiagnosticDescription
from services.shared import mirror
from services.shared.errors import NotFound, PaymentRequired, invalid_field
from services.shared.importer import Problem, Refused, command


def file_key(sha256):
    return f"odx/{sha256}.pdx"


def summary(description):
    """What a tool maker reads of an ECU type's description without opening the file."""
    return {
        "fault_codes": [{"code": code, "number": f"{number:06X}", "text": text,
                         "checks": description.checks.get(number, [])}
                        for number, (code, text) in sorted(description.dtcs.items())],
        "data_identifiers": [{"name": d.name, "did": f"0x{d.number:04X}", "long_name": d.long_name, "unit": d.unit,
                              "minimum": d.minimum, "maximum": d.maximum, "bytes": d.size}
                             for d in sorted(description.dids.values(), key=lambda d: d.number)],
        "routines": [{"name": r.name, "number": f"0x{r.number:04X}", "long_name": r.long_name}
                     for r in sorted(description.routines.values(), key=lambda r: r.number)],
        "freeze_frame": list(description.freeze_frame),
        "coding": [c.view() for c in sorted(description.codings.values(), key=lambda c: c.number)],
        "carried_over": list(description.carried_over),
    }


def layouts(session):
    """{ECU type: {coding identifier: its layout}} of every description on offer: what coding is checked and
    computed against (services.programming.coding)."""
    rows = session.scalars(select(DiagnosticDescription).where(DiagnosticDescription.withdrawn_at.is_(None)))
    return {row.ecu_type: {c["name"]: c for c in row.summary.get("coding", [])} for row in rows}


def import_files(paths, engine, blobs, now=None):
    """Check every file, then keep them. Returns {"created", "updated", "unchanged"} counts."""
    paths = [Path(p) for p in paths]
    found = [Problem(path.name, "-", text) for path in paths for text in odx.problems(path)]
    read = [] if found else [(path, odx.Description(path)) for path in paths]
    types = {}
    for path, description in read:
        if description.ecu_type in types:
            found.append(Problem(path.name, "ecu_type", f"{description.ecu_type} is described by "
                                                        f"{types[description.ecu_type]} too"))
        types[description.ecu_type] = path.name
    if found:
        raise Refused(found, len(found))
    now = now or datetime.now(timezone.utc)
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    Session = sessionmaker(engine)
    with Session() as s, s.begin():
        revision = s.scalar(select(func.max(DiagnosticDescription.revision))) or 0
        for path, description in read:
            data = path.read_bytes()
            sha = hashlib.sha256(data).hexdigest()
            blobs.put_once(file_key(sha), data, "application/octet-stream")
            row = s.get(DiagnosticDescription, description.ecu_type, with_for_update=True)
            if row is not None and row.sha256 == sha and row.withdrawn_at is None:
                counts["unchanged"] += 1
                continue
            revision += 1
            fields = dict(long_name=description.long_name, file_name=path.name, sha256=sha, size=len(data),
                          summary=summary(description), revision=revision, imported_at=now, withdrawn_at=None)
            if row is None:
                s.add(DiagnosticDescription(ecu_type=description.ecu_type, **fields))
                counts["created"] += 1
            else:
                for name, value in fields.items():
                    setattr(row, name, value)
                counts["updated"] += 1
    return counts


def withdraw(engine, ecu_type, now=None):
    """An ECU type's description no longer offered: a tombstone in the feed (its file stays for the record)."""
    Session = sessionmaker(engine)
    with Session() as s, s.begin():
        row = s.get(DiagnosticDescription, ecu_type, with_for_update=True)
        if row is None or row.withdrawn_at is not None:
            raise Refused([Problem(ecu_type, "ecu_type", "no description of this ECU type is on offer")])
        row.revision = (s.scalar(select(func.max(DiagnosticDescription.revision))) or 0) + 1
        row.withdrawn_at = now or datetime.now(timezone.utc)
    return f"{ecu_type} withdrawn"


def main(argv):
    if len(argv) < 2 or argv[0] not in ("import", "withdraw") or (argv[0] == "withdraw" and len(argv) != 2):
        raise SystemExit(__doc__.rsplit("\n\n", 1)[1])
    from services.shared import blobs, config
    from services.shared.database import make_engine
    conf = config.load()
    engine = make_engine(config.database_url(conf["ENVIRONMENT"], "programming"))
    if argv[0] == "withdraw":
        return command(lambda: withdraw(engine, argv[1]))
    store = blobs.from_config(conf)
    store.ensure_bucket()
    return command(lambda: "diagnostic descriptions: {created} new, {updated} changed, {unchanged} unchanged".format(
        **import_files(argv[1:], engine, store)))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))


# ---- what partners read ------------------------------------------------------------------------------------------

SCOPE = "air"  # diagnostic descriptions are technical information: what opens the library opens them
LINK_SECONDS = 300  # a file's signed link works for five minutes


def _require_access(ctx, session, reader):
    if not ACCESS.allows(session, reader["operator_id"], SCOPE, None, ctx.now):
        raise PaymentRequired("ACCESS_REQUIRED", "Diagnostic descriptions are technical information: they need "
                              "access to it that is not one car's (an hour or longer, or a data subscription).",
                              {"scope": SCOPE, "tariffs": ctx.offer(SCOPE)})


def exported(row):
    if row.withdrawn_at is not None:
        return {"cursor": str(row.revision), "id": row.ecu_type, "deleted": True}
    return {"cursor": str(row.revision), "id": row.ecu_type, "deleted": False, "ecu_type": row.ecu_type,
            "long_name": row.long_name, "file_name": row.file_name, "sha256": row.sha256, "size": row.size,
            "file": f"/api/v1/diagnostics/descriptions/{row.ecu_type}/file", **row.summary}


def changes(ctx, reader, query):
    """A page of the descriptions' changes after `after` (a revision), oldest first: the current ones (an export),
    withdrawn ones as tombstones too (a feed). The registry's series does not narrow ECU types: `series` is
    refused rather than ignored."""
    if query["series"] is not None:
        raise invalid_field("SERIES_NOT_APPLICABLE", "series", "not_for_this_export",
                            "Diagnostic descriptions are per ECU type, not per series: leave `series` out.")
    with ctx.store.read() as s:
        _require_access(ctx, s, reader)
        latest = s.scalar(select(func.max(DiagnosticDescription.revision))) or 0
        mirror.require_known(query["after"], latest, "The diagnostic descriptions",
                             "/api/v1/exports/diagnostics")
        rows = s.scalars(select(DiagnosticDescription).where(DiagnosticDescription.revision > query["after"])
                         .order_by(DiagnosticDescription.revision).limit(query["limit"])).all()
        items = [exported(r) for r in rows if query["tombstones"] or r.withdrawn_at is None]
    return mirror.page(items, [r.revision for r in rows], query["after"], latest)


def file_link(ctx, reader, ecu_type):
    """A signed link to the ECU type's PDX file, for five minutes."""
    with ctx.store.read() as s:
        _require_access(ctx, s, reader)
        row = s.get(DiagnosticDescription, ecu_type)
        if row is None or row.withdrawn_at is not None:
            raise NotFound("DESCRIPTION_NOT_FOUND", f"There is no diagnostic description of {ecu_type!r} on offer.",
                           {"ecu_type": ecu_type})
        return {"url": ctx.blobs.signed_url(file_key(row.sha256), LINK_SECONDS, filename=row.file_name),
                "sha256": row.sha256, "size": row.size}
