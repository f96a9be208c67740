"""The parts catalogue as partners mirror it (GET /v1/exports/parts and /v1/feeds/parts): a line per part number with
everything the catalogue says of it (names, weight, prices, the kit it is sold in or holds, what supersedes it, and
where it is drawn, with each row's validity), and the revision bookkeeping an import does so that a feed after a
cursor holds exactly the parts whose line changed or that left the catalogue."""
import hashlib

import orjson
from sqlalchemy import insert, select, update

from services.parts.models import Illustration, KitContent, Part, PartRevision, Row, Supersession

BATCH = 2000  # part numbers read at once


def lines(session, catalogue_id, numbers):
    """{number: line} for the parts of `numbers` catalogue `catalogue_id` holds (one missing is not there)."""
    if not numbers:
        return {}
    parts = session.scalars(select(Part).where(Part.catalogue_id == catalogue_id, Part.number.in_(numbers))).all()
    holds, superseded, uses = {}, {}, {}
    for k in session.scalars(select(KitContent).where(KitContent.catalogue_id == catalogue_id,
                                                      KitContent.kit.in_(numbers)).order_by(KitContent.number)):
        holds.setdefault(k.kit, []).append({"number": k.number, "quantity": k.quantity})
    for s in session.scalars(select(Supersession).where(Supersession.catalogue_id == catalogue_id,
                                                        Supersession.old.in_(numbers))):
        superseded[s.old] = s
    for row, series, subgroup in session.execute(
            select(Row, Illustration.series, Illustration.subgroup)
            .join(Illustration, (Illustration.catalogue_id == Row.catalogue_id) & (Illustration.id == Row.illustration))
            .where(Row.catalogue_id == catalogue_id, Row.number.in_(numbers))
            .order_by(Row.illustration, Row.callout, Row.id)):
        uses.setdefault(row.number, []).append({
            "illustration": row.illustration, "subgroup": subgroup, "series": series, "callout": row.callout,
            "quantity": row.quantity, "validity": row.validity, "remark_en": row.remark_en, "remark_de": row.remark_de})
    found = {}
    for p in parts:
        by = superseded.get(p.number)
        found[p.number] = {
            "id": p.number, "number": p.number, "name_en": p.name_en, "name_de": p.name_de, "weight_g": p.weight_g,
            "prices": p.prices, "kit": p.kit, "kit_contents": holds.get(p.number, []),
            "superseded_by": by.new if by else None, "interchangeability": by.interchangeability if by else None,
            "used_in": uses.get(p.number, [])}
    return found


def series_of(line):
    return sorted({use["series"] for use in line["used_in"]})


def digest(line):
    return hashlib.sha256(orjson.dumps(line, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]


def revise(session, catalogue_id):
    """Inside the import's switch to `catalogue_id`: the next revision for every part whose line changed or is new,
    a tombstone for every part that left. Returns (changed, withdrawn)."""
    known = {number: (sha, deleted) for number, sha, deleted in session.execute(
        select(PartRevision.number, PartRevision.digest, PartRevision.deleted))}
    revision = session.scalar(select(PartRevision.revision).order_by(PartRevision.revision.desc()).limit(1)) or 0
    numbers = session.scalars(select(Part.number).where(Part.catalogue_id == catalogue_id)
                              .order_by(Part.number)).all()
    changed = 0
    for start in range(0, len(numbers), BATCH):
        new, moved = [], []
        for number, line in sorted(lines(session, catalogue_id, numbers[start:start + BATCH]).items()):
            sha = digest(line)
            if known.get(number) == (sha, False):
                continue
            revision += 1
            row = {"number": number, "revision": revision, "digest": sha, "series": series_of(line),
                   "deleted": False}
            (moved if number in known else new).append(row)
        if new:
            session.execute(insert(PartRevision), new)
        if moved:
            session.execute(update(PartRevision), moved)
        changed += len(new) + len(moved)
    present = set(numbers)
    gone = [n for n, (_, deleted) in sorted(known.items()) if not deleted and n not in present]
    if gone:
        session.execute(update(PartRevision), [{"number": n, "revision": revision + i, "deleted": True}
                                               for i, n in enumerate(gone, start=1)])
    return changed, len(gone)
