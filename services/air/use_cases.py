"""What AIR does for a workshop, step by step: search, suggest, open a document, navigate."""
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from services.air import domain, search
from services.air.content import blob_key
from services.air.models import Access, Document
from services.air import metrics
from services.billing.access import AccessBook
from services.shared import mirror
from services.shared.errors import NotFound, invalid_field

ACCESS = AccessBook(Access)
LINK_SECONDS = 300  # a signed binary link works for five minutes


@dataclass
class Context:
    store: object  # services.shared.database.Store
    index: search.SearchIndex
    now: datetime
    vehicle: object  # vin -> domain.Vehicle (vehicle data's describe, cached)
    tariffs: object  # () -> the tariffs that open technical information
    blobs: object = None


def _vehicle(ctx, vin):
    return ctx.vehicle(vin.upper()) if vin else None


def _car(ctx, actor, vin):
    """(the vehicle to narrow to, what the answer may say of it). Build data is the workshop's only with access to
    vehicle data (any access window, or a VIN pass for this car): without it nothing is narrowed to the car (the
    narrowing itself would tell its series, model and engine) and the answer names only the VIN."""
    vehicle = _vehicle(ctx, vin)
    if vehicle is None:
        return None, None
    with ctx.store.read() as session:
        if ACCESS.allows(session, actor["operator_id"], "vehicle_data", vehicle.vin, ctx.now):
            return vehicle, vehicle.__dict__
    return None, {"vin": vehicle.vin}


def _may_read(ctx, actor, vin):
    with ctx.store.read() as session:
        return domain.may_read(ACCESS.of(session, actor["operator_id"]), vin, ctx.now)


def _facets(counts):
    return {"type": [{"value": k, "label": domain.DOCUMENT_TYPES.get(k, k), "count": n}
                     for k, n in sorted(counts.get("type", {}).items(), key=lambda kv: -kv[1])],
            "system": [{"value": k, "label": domain.SYSTEMS.get(k, k), "count": n}
                       for k, n in sorted(counts.get("system", {}).items())]}


def run_search(ctx, actor, query):
    """Ranked hits for everyone signed in; snippets and highlights only with access (for a VIN pass: searching
    for that VIN)."""
    if query["q"] is None and not (query["type"] or query["system"]):
        raise invalid_field("QUERY_REQUIRED", "q", "required_without_type_or_system",
                            "Type a word or code, or choose a main group or document type to browse.")
    words = domain.read_text(query["q"] or "")
    if words.empty and query["q"] is not None:
        raise invalid_field("QUERY_HAS_NO_WORDS", "q", "at_least_one_word",
                            "Type at least one word or code: punctuation alone finds nothing.")
    vehicle, car = _car(ctx, actor, query["vin"])
    filters = domain.Filters(types=(query["type"],) if query["type"] else (),
                             systems=(query["system"],) if query["system"] else (),
                             language=query["language"], vehicle=vehicle)
    access = _may_read(ctx, actor, car["vin"] if car else None)
    size, page = query["size"], query["page"]
    with metrics.SEARCH_DURATION.time():
        found = ctx.index.search(words, filters, offset=(page - 1) * size, limit=size, highlight=access)
    metrics.SEARCHES.labels("yes" if access else "no").inc()
    if found.total == 0:
        metrics.SEARCH_ZERO.inc()
    pages = search.pages(found.total, size)
    if page > pages:
        raise invalid_field("PAGE_OUT_OF_RANGE", "page", f"at_most_{pages}",
                            f"There are {found.total} hits, {pages} page(s) of {size}: ask for page {pages} or less.",
                            total=found.total, pages=pages)
    return {"query": query["q"], "total": found.total, "page": page, "pages": pages, "size": size,
            "access": access, "vehicle": car,
            "hits": [h.__dict__ for h in found.hits], "facets": _facets(found.facets),
            "offer": None if access else ctx.tariffs()}


def suggest(ctx, actor, query):
    vehicle, _ = _car(ctx, actor, query["vin"])
    found = ctx.index.suggest(query["q"], domain.Filters(language=query["language"], vehicle=vehicle))
    return {"suggestions": [{"id": i, "title": t} for i, t in found]}


def open_document(ctx, actor, document_id, query):
    """The whole document with signed links to its binaries, and DocumentViewed for the audit trail; 402 with
    what to buy without access."""
    vehicle = _vehicle(ctx, query["vin"])
    with ctx.store.read() as session:
        document = session.get(Document, document_id)
        if document is None:
            raise NotFound("DOCUMENT_NOT_FOUND", f"There is no technical document {document_id!r}.",
                           {"field": "document_id"})
        if document.withdrawn_at is not None:
            raise NotFound("DOCUMENT_WITHDRAWN", f"The manufacturer withdrew {document_id} on "
                           f"{document.withdrawn_at:%Y-%m-%d}: search for what replaces it.",
                           {"field": "document_id", "withdrawn_at": document.withdrawn_at.isoformat()})
        accesses = ACCESS.of(session, actor["operator_id"])
    if not domain.may_read(accesses, vehicle.vin if vehicle else None, ctx.now):  # first: the car's data is paid
        raise domain.access_required(document_id, vehicle.vin if vehicle else None, ctx.tariffs())
    if vehicle is not None and not domain.applies(document.applicability, vehicle):
        raise invalid_field("DOCUMENT_NOT_FOR_VEHICLE", "vin", "document_applies",
                            f"{document_id} does not apply to {vehicle.vin} ({vehicle.series} {vehicle.model_code}, "
                            f"{vehicle.engine_code}, built {vehicle.production_date.isoformat()}).")
    with ctx.store.transaction() as uow:
        uow.emit("DocumentViewed", {"operator_id": actor["operator_id"], "user_id": actor["user_id"],
                                    "document_id": document.id, "vin": vehicle.vin if vehicle else None,
                                    "viewed_at": ctx.now}, subject=document.id)
    metrics.DOCUMENTS_VIEWED.labels(document.type).inc()
    expires = ctx.now + timedelta(seconds=LINK_SECONDS)
    return {"id": document.id, "type": document.type, "type_label": domain.DOCUMENT_TYPES[document.type],
            "title": document.title, "system": document.system, "system_label": domain.SYSTEMS[document.system],
            "language": document.language, "version": document.version, "valid_from": document.valid_from,
            "codes": document.codes, "applicability": document.applicability, "body": document.body,
            "vin": vehicle.vin if vehicle else None,
            "binaries": [b | {"url": ctx.blobs.signed_url(blob_key(b["sha256"]), LINK_SECONDS, filename=b["name"]),
                              "expires_at": expires} for b in document.binaries]}


def navigation(ctx, actor, query):
    """The standard navigation (ISO 18541-3): main groups with their document types, and types with their main
    groups, counted; for a VIN (with access to its data) only what applies to it."""
    vehicle, car = _car(ctx, actor, query["vin"])
    counts = ctx.index.tree(domain.Filters(language=query["language"], vehicle=vehicle))
    by_system = [{"system": s, "label": domain.SYSTEMS.get(s, s), "count": sum(types.values()),
                  "types": [{"type": t, "label": domain.DOCUMENT_TYPES.get(t, t), "count": n}
                            for t, n in sorted(types.items())]} for s, types in sorted(counts.items())]
    by_type = {}
    for s, types in counts.items():
        for t, n in types.items():
            node = by_type.setdefault(t, {"type": t, "label": domain.DOCUMENT_TYPES.get(t, t), "count": 0,
                                          "systems": []})
            node["count"] += n
            node["systems"].append({"system": s, "label": domain.SYSTEMS.get(s, s), "count": n})
    for node in by_type.values():
        node["systems"].sort(key=lambda x: x["system"])
    return {"vehicle": car, "by_system": by_system,
            "by_type": [by_type[t] for t in domain.DOCUMENT_TYPES if t in by_type]}


def changes(ctx, reader, query):
    """A page of the library's changes after `after` (a revision), oldest first, for a partner's mirror: the
    current documents (an export), with tombstones for the withdrawn (a change feed). Needs access to technical
    information that is not one car's (a VIN pass opens one car's documents, not the library). A cursor beyond
    the library's newest revision is one this library never gave: 410, start over with an export."""
    with ctx.store.read() as session:
        if not domain.may_read(ACCESS.of(session, reader["operator_id"]), None, ctx.now):
            raise domain.access_required(None, None, ctx.tariffs())
        latest = session.scalar(select(func.max(Document.revision))) or 0
        mirror.require_known(query["after"], latest, "This library", "/api/v1/exports/air")
        rows = session.scalars(select(Document).where(Document.revision > query["after"])
                               .order_by(Document.revision).limit(query["limit"])).all()
    items = [domain.exported(row) for row in rows
             if (query["tombstones"] or row.withdrawn_at is None) and domain.for_series(row, query["series"])]
    metrics.EXPORTED.labels("tombstones" if query["tombstones"] else "documents").inc(len(items))
    return mirror.page(items, [r.revision for r in rows], query["after"], latest)
