"""What the parts catalogue does for a workshop, step by step: the car's groups, an illustration with its rows,
a part by number, a search by name, a quote for the job card's estimate, and a parts list sent to a dealer.

Every read is of one catalogue version, the one this process has indexed (`ctx.catalogue`): an import switches
the active version in one transaction and the process follows once its index is built, so a reader sees the old
catalogue or the new one, never half."""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from services.billing.access import AccessBook
from services.parts import domain, exports, metrics, search
from services.parts.models import (Access, Catalogue, Group, Illustration, KitContent, Part, PartRevision, PartsRequest,
                                  Row)
from services.shared import mirror
from services.shared.database import new_id
from services.shared.errors import NotFound, Unavailable, invalid_field
from services.shared.vat import price

ACCESS = AccessBook(Access)
LINK_SECONDS = 300  # a drawing's signed link works for five minutes
USED_IN = 20  # the illustrations listed for a part


@dataclass
class Context:
    store: object  # services.shared.database.Store
    catalogue: object  # dependencies.Loaded: the version this process reads, with its index; None before the first
    now: datetime
    vehicle: object  # vin -> vehicle data's describe, or None for a car the registry does not know
    country: object  # actor -> the workshop's country (identity)
    tariffs: object  # () -> billing's tariffs that open the parts catalogue
    blobs: object = None


def _catalogue(ctx):
    if ctx.catalogue is None:
        raise Unavailable("CATALOGUE_NOT_READY", "The parts catalogue is not imported or not indexed yet: try again "
                          "in a moment.")
    return ctx.catalogue


def _access(ctx, actor, vin):
    with ctx.store.read() as session:
        return domain.may_see_numbers(ACCESS.of(session, actor["operator_id"]), vin, ctx.now)


@dataclass
class Seen:
    """The car a read is for, as far as the workshop may see it."""
    vin: str | None
    series: str | None
    car: domain.Car | None  # narrowed to: with access, a car the registry knows
    access: bool
    whole_series: bool  # the registry does not know the VIN: its series' whole catalogue
    message: str | None


def _seen(ctx, actor, vin, series=None):
    """The car to narrow to. Part numbers and prices, and narrowing to the car's build data (which would tell its
    options), come with parts access; without it, the series' catalogue, said so."""
    loaded = _catalogue(ctx)
    if vin is None:
        if series is not None and series not in loaded.series:
            raise invalid_field("SERIES_NOT_IN_CATALOGUE", "series", "a_series_of_the_catalogue",
                                f"The catalogue has no series {series}: it has {', '.join(sorted(loaded.series))}.")
        return Seen(None, series, None, _access(ctx, actor, None), False, None)
    vin = vin.upper()
    access = _access(ctx, actor, vin)
    described = ctx.vehicle(vin)
    if described is None:
        found = domain.series_of_vin(vin, loaded.series, loaded.vin_model)
        if found is None:
            raise invalid_field("VIN_NOT_IN_CATALOGUE", "vin", "a_vin_of_the_catalogue",
                                f"{vin} is not a car of this catalogue: neither the registry nor its model code "
                                f"({domain.model_of_vin(vin, loaded.vin_model)}) names a series.")
        return Seen(vin, found, None, access, True, domain.WHOLE_SERIES.format(vin=vin, series=found))
    car = domain.Car.of(described)
    if not access:
        return Seen(vin, car.series, None, False, False, domain.NOT_NARROWED)
    return Seen(vin, car.series, car, True, False, None)


def _names(language):
    return (Group.name_de, Illustration.title_de) if language == "de" else (Group.name_en, Illustration.title_en)


# ---- the car's groups -------------------------------------------------------------------------------------------

def groups(ctx, actor, query):
    """The main groups and subgroups with their illustrations for the car (or a series), each with how many of
    its rows fit. Without a car or series: the series to choose from."""
    loaded = _catalogue(ctx)
    seen = _seen(ctx, actor, query["vin"], query["series"])
    answer = {"catalogue": f"{loaded.name} {loaded.version}", "vin": seen.vin, "series": seen.series,
              "car": _car_view(seen.car), "narrowed": seen.car is not None, "whole_series": seen.whole_series,
              "message": seen.message, "access": seen.access, "groups": [],
              "offer": None if seen.access or seen.series is None else _offer(ctx),
              "series_list": [{"code": code, "name": s["name"]} for code, s in sorted(loaded.series.items())]}
    if seen.series is None:
        return answer
    de = query["language"] == "de"
    with ctx.store.read() as s:
        names = {g.id: (g.name_de if de else g.name_en, g.parent) for g in s.scalars(
            select(Group).where(Group.catalogue_id == loaded.id).order_by(Group.position))}
        drawings = s.execute(select(Illustration.id, Illustration.subgroup, Illustration.title_de if de
                                    else Illustration.title_en)
                             .where(Illustration.catalogue_id == loaded.id, Illustration.series == seen.series)
                             .order_by(Illustration.position)).all()
        counts = {}
        for illustration, validity in s.execute(
                select(Row.illustration, Row.validity)
                .join(Illustration, (Illustration.catalogue_id == Row.catalogue_id)
                      & (Illustration.id == Row.illustration))
                .where(Row.catalogue_id == loaded.id, Illustration.series == seen.series)):
            if seen.car is None or domain.left_out_because(validity, seen.car) is None:
                counts[illustration] = counts.get(illustration, 0) + 1
    by_subgroup = {}
    for id, subgroup, title in drawings:
        if counts.get(id):
            by_subgroup.setdefault(subgroup, []).append({"id": id, "title": title, "rows": counts[id]})
    for group_id, (name, parent) in names.items():
        if parent is not None:
            continue
        subgroups = [{"id": sub, "name": sub_name, "illustrations": by_subgroup[sub]}
                     for sub, (sub_name, sub_parent) in names.items() if sub_parent == group_id and sub in by_subgroup]
        if subgroups:
            answer["groups"].append({"id": group_id, "name": name, "subgroups": subgroups})
    return answer


def _car_view(car):
    if car is None:
        return None
    return {"series": car.series, "model_code": car.model_code, "engine_code": car.engine_code,
            "production_date": car.production_date.isoformat(),
            "options": [domain.option_words(o) for o in car.options]}


# ---- an illustration --------------------------------------------------------------------------------------------

def illustration(ctx, actor, illustration_id, query):
    """An exploded view: its drawing (a signed link to an image), its hotspots and its rows. With a car, the rows
    that fit it (with `explain`, also the others, each with why not); numbers, supersession and prices with
    access."""
    loaded = _catalogue(ctx)
    de = query["language"] == "de"
    seen = _seen(ctx, actor, query["vin"])  # before the read: one connection at a time (SQLite has one)
    with ctx.store.read() as s:
        found = s.get(Illustration, (loaded.id, illustration_id))
        if found is None:
            raise NotFound("ILLUSTRATION_NOT_FOUND", f"The catalogue has no illustration {illustration_id!r}.",
                           {"field": "illustration_id"})
        if seen.series is not None and seen.series != found.series:
            raise invalid_field("ILLUSTRATION_NOT_FOR_CAR", "vin", "an_illustration_of_the_series",
                                f"{illustration_id} is drawn for the {found.series}; {seen.vin} is a {seen.series}.")
        rows = s.scalars(select(Row).where(Row.catalogue_id == loaded.id, Row.illustration == illustration_id)
                         .order_by(Row.callout, Row.id)).all()
        parts = _parts(s, loaded, {r.number for r in rows})
        sub = s.get(Group, (loaded.id, found.subgroup))
    country = ctx.country(actor) if seen.access else None
    out = []
    for row in rows:
        why = domain.left_out_because(row.validity, seen.car) if seen.car is not None else None
        if why is not None and not query["explain"]:
            continue
        part = parts[row.number]
        out.append({"callout": row.callout, "name": part.name_de if de else part.name_en, "quantity": row.quantity,
                    "note": _note(row, query["language"]), "fits": why is None, "left_out_because": why}
                   | _numbers(loaded, parts, row.number, seen.access, country, query["language"]))
    metrics.READS.labels("illustration", "yes" if seen.access else "no").inc()
    return {"id": found.id, "title": found.title_de if de else found.title_en, "series": found.series,
            "group": sub.parent if sub else None, "subgroup": found.subgroup,
            "subgroup_name": (sub.name_de if de else sub.name_en) if sub else None,
            "image_url": ctx.blobs.signed_url(found.image_key, LINK_SECONDS),
            "width": found.width, "height": found.height, "hotspots": found.hotspots, "rows": out,
            "access": seen.access, "vin": seen.vin, "car": _car_view(seen.car), "narrowed": seen.car is not None,
            "message": seen.message, "offer": None if seen.access else _offer(ctx)}


def _note(row, language):
    remark = row.remark_de if language == "de" else row.remark_en
    printed = domain.note(row.validity, language)
    return "; ".join(p for p in (printed, remark) if p) or None


def _parts(session, loaded, numbers):
    """Parts by number, with the parts their numbers lead to and the kits they are sold in."""
    wanted = set(numbers)
    wanted |= {domain.current(n, loaded.superseded_by) for n in numbers}
    found = {p.number: p for p in session.scalars(select(Part).where(Part.catalogue_id == loaded.id,
                                                                     Part.number.in_(sorted(wanted))))}
    kits = {p.kit for p in found.values() if p.kit} - set(found)
    if kits:
        found |= {p.number: p for p in session.scalars(select(Part).where(Part.catalogue_id == loaded.id,
                                                                          Part.number.in_(sorted(kits))))}
    return found


def _numbers(loaded, parts, number, access, country, language):
    """A row's or part's numbers, supersession, kit and price: with access only."""
    if not access:
        return {"number": None, "current": None, "written": None, "chain": [], "kit": None, "price": None}
    steps = domain.chain(number, loaded.superseded_by)
    now = steps[-1][1] if steps else number
    part = parts.get(now) or parts[number]
    words = domain.INTERCHANGE_WORDS[language]
    return {"number": domain.written(number), "current": now, "written": domain.written(now),
            "chain": [{"old": domain.written(old), "new": domain.written(new), "interchangeability": kind,
                       "words": words[kind]} for old, new, kind in steps],
            "kit": _kit(parts, part, language), "price": None if part.kit else _price(part, country)}


def _kit(parts, part, language):
    if not part.kit:
        return None
    kit = parts.get(part.kit)
    return {"number": part.kit, "written": domain.written(part.kit),
            "name": (kit.name_de if language == "de" else kit.name_en) if kit else None}


def _price(part, country):
    unit = domain.net_price(part.prices, country)
    if unit is None:
        return None
    quoted = price(unit, country, country, None)
    return {"country": country, "net_cents": quoted.net_cents, "vat_rate": str(quoted.vat_rate),
            "gross_cents": quoted.gross_cents, "currency": "EUR"}


def _offer(ctx):
    return {"message": domain.NO_ACCESS, "tariffs": ctx.tariffs()}


# ---- a part by number ---------------------------------------------------------------------------------------------

def part(ctx, actor, typed, query):
    """A part by its number as typed: an old number leads to its current one (the chain shown); a kit lists what it
    holds; where it is used, and whether it fits the car. Numbers are paid: 402 without access."""
    loaded = _catalogue(ctx)
    number = domain.require_number(typed)
    seen = _seen(ctx, actor, query["vin"])
    if not seen.access:
        raise domain.access_required(ctx.tariffs())
    de = query["language"] == "de"
    with ctx.store.read() as s:
        parts = _parts(s, loaded, {number})
        if number not in parts:
            raise domain.unknown_part(typed, domain.near(number, _neighbours(s, loaded, number)))
        now = domain.current(number, loaded.superseded_by)
        found = parts.get(now) or parts[number]
        contents = s.execute(select(KitContent.number, KitContent.quantity, Part.name_de if de else Part.name_en)
                             .join(Part, (Part.catalogue_id == KitContent.catalogue_id) & (Part.number ==
                                                                                         KitContent.number))
                             .where(KitContent.catalogue_id == loaded.id, KitContent.kit == found.number)
                             .order_by(KitContent.number)).all()
        olds = domain.predecessors(now, loaded.replaced)
        used = s.execute(select(Row.illustration, Row.callout, Row.validity, Illustration.series,
                                Illustration.title_de if de else Illustration.title_en)
                         .join(Illustration, (Illustration.catalogue_id == Row.catalogue_id)
                               & (Illustration.id == Row.illustration))
                         .where(Row.catalogue_id == loaded.id, Row.number.in_(sorted({now, number, *olds})))
                         .order_by(Illustration.series != (seen.series or ""), Row.illustration)
                         .limit(200)).all()
    country = ctx.country(actor)
    usage = []
    for illustration_id, callout, validity, series, title in used:
        fits = None
        if seen.car is not None:
            fits = domain.left_out_because(validity, seen.car) is None
        elif seen.series is not None:
            fits = series == seen.series or None
        usage.append({"illustration": illustration_id, "title": title, "callout": callout, "fits": fits})
    usage.sort(key=lambda u: u["fits"] is not True)
    metrics.READS.labels("part", "yes").inc()
    numbers = _numbers(loaded, parts, number, True, country, query["language"])
    return {"number": now, "written": domain.written(now), "name": found.name_de if de else found.name_en,
            "asked": domain.written(number), "chain": numbers["chain"], "weight_g": found.weight_g,
            "price": numbers["price"], "kit": numbers["kit"],
            "contents": [{"number": n, "written": domain.written(n), "quantity": q, "name": name}
                         for n, q, name in contents],
            "used_in": usage[:USED_IN], "fits": any(u["fits"] for u in usage) if seen.series else None,
            "vin": seen.vin}


def _neighbours(session, loaded, number):
    """Numbers of the same group and subgroup (its first four digits), where a mistyped number's twin lives."""
    return session.scalars(select(Part.number).where(Part.catalogue_id == loaded.id,
                                                     Part.number.like(number[:4] + "%"))).all()


# ---- search -------------------------------------------------------------------------------------------------------

def find(ctx, actor, query):
    """A part number (with or without spaces) finds that part, an old one its current; words find parts by name in
    either language, typos forgiven, narrowed to the car with access. Numbers with access only."""
    loaded = _catalogue(ctx)
    seen = _seen(ctx, actor, query["vin"])
    de = query["language"] == "de"
    number = domain.normalise_number(query["q"])
    size, page = query["size"], query["page"]
    if number is not None:
        if not seen.access:
            raise domain.access_required(ctx.tariffs())
        with ctx.store.read() as s:
            now = domain.current(number, loaded.superseded_by)
            found = s.get(Part, (loaded.id, now))
            if found is None:
                raise domain.unknown_part(query["q"], domain.near(number, _neighbours(s, loaded, number)))
        metrics.SEARCHES.labels("number").inc()
        return {"total": 1, "page": 1, "access": True, "hits": [
            {"number": now, "written": domain.written(now), "name": found.name_de if de else found.name_en,
             "asked": domain.written(number) if now != number else None, "illustration": None, "title": None,
             "callout": None}], "offer": None}
    terms = domain.search_words(search.words(query["q"]))
    with metrics.SEARCH_DURATION.time():
        found = loaded.index.search(terms, car=seen.car, series=seen.series, options=loaded.options,
                                    offset=(page - 1) * size, limit=size)
    metrics.SEARCHES.labels("words").inc()
    return {"total": found.total, "page": page, "access": seen.access, "offer": None if seen.access else _offer(ctx),
            "hits": [{"number": h.number if seen.access else None,
                      "written": domain.written(h.number) if seen.access else None,
                      "name": h.name_de if de else h.name_en, "asked": None, "illustration": h.illustration,
                      "title": h.title_de if de else h.title_en, "callout": h.callout} for h in found.hits]}


# ---- quotes and parts requests ------------------------------------------------------------------------------------

def quote(ctx, actor, payload):
    """Parts for a car at the workshop's net prices, with its country's VAT: each line's number as asked leads to
    the current one. 402 without access, 404 naming an unknown number."""
    loaded = _catalogue(ctx)
    vin = payload["vin"].upper()
    if not _access(ctx, actor, vin):
        raise domain.access_required(ctx.tariffs())
    country = ctx.country(actor)
    asked = [(domain.require_number(line["number"]), line["quantity"]) for line in payload["lines"]]
    with ctx.store.read() as s:
        parts = _parts(s, loaded, {n for n, _ in asked})
        lines = []
        for index, (number, quantity) in enumerate(asked):
            if number not in parts:
                raise domain.unknown_part(payload["lines"][index]["number"], domain.near(
                    number, _neighbours(s, loaded, number)), field=f"lines.{index}.number")
            now = domain.current(number, loaded.superseded_by)
            found = parts.get(now) or parts[number]
            if found.kit:
                raise invalid_field("SOLD_ONLY_IN_KIT", f"lines.{index}.number", "a_part_sold_alone",
                                    f"{domain.written(now)} is sold only in the kit {domain.written(found.kit)}: "
                                    "order the kit.", kit=domain.written(found.kit))
            lines.append(domain.line(now, found.name_en, quantity, found.prices, country)
                         | {"asked": domain.written(number) if now != number else None})
    return domain.total(lines)


def request_parts(ctx, actor, payload):
    """A parts list for a car sent to a dealer: priced now, kept, and told (PartsRequested)."""
    quoted = quote(ctx, actor, payload)
    request = PartsRequest(id=new_id(), operator_id=actor["operator_id"], user_id=actor["user_id"],
                           vin=payload["vin"].upper(), job_id=payload["job_id"], note=payload["note"],
                           lines=quoted["lines"], net_cents=quoted["net_cents"], requested_at=ctx.now)
    with ctx.store.transaction() as uow:
        uow.session.add(request)
        uow.emit("PartsRequested", {
            "request_id": request.id, "operator_id": request.operator_id, "user_id": request.user_id,
            "vin": request.vin, "job_id": request.job_id, "net_cents": request.net_cents, "currency": "EUR",
            "lines": [{"number": line["number"], "name": line["name"], "quantity": line["quantity"],
                       "unit_net_cents": line["unit_net_cents"]} for line in request.lines],
            "requested_at": ctx.now}, subject=request.vin)
    metrics.REQUESTS.inc()
    return _request_view(request)


def _request_view(request):
    return {"id": request.id, "vin": request.vin, "job_id": request.job_id, "note": request.note,
            "lines": request.lines, "net_cents": request.net_cents, "requested_at": request.requested_at}


def requests(ctx, actor, limit=50):
    with ctx.store.read() as s:
        return {"requests": [_request_view(r) for r in s.scalars(
            select(PartsRequest).where(PartsRequest.operator_id == actor["operator_id"])
            .order_by(PartsRequest.requested_at.desc()).limit(limit))]}


def parts_request(ctx, actor, request_id):
    with ctx.store.read() as s:
        found = s.get(PartsRequest, request_id)
        if found is None or found.operator_id != actor["operator_id"]:
            raise NotFound("PARTS_REQUEST_NOT_FOUND", "Your workshop sent no such parts request.",
                           {"field": "request_id"})
        return _request_view(found)


def count_rows(session, catalogue_id):
    return session.scalar(select(func.count()).select_from(Row).where(Row.catalogue_id == catalogue_id))


# ---- partners' mirrors ------------------------------------------------------------------------------------------

def changes(ctx, reader, query):
    """A page of the catalogue's changes after `after` (a revision), oldest first: the current part numbers (an
    export), with tombstones for those that left (a change feed). Needs parts access that is not one car's. Each
    line is what the active catalogue says now: a line read while an import switches may already be the next
    version's; its own revision brings it again, so a mirror applied in order still ends equal."""
    with ctx.store.read() as s:
        if not domain.may_see_numbers(ACCESS.of(s, reader["operator_id"]), None, ctx.now):
            raise domain.access_required(ctx.tariffs())
        latest = s.scalar(select(func.max(PartRevision.revision))) or 0
        mirror.require_known(query["after"], latest, "The parts catalogue", "/api/v1/exports/parts")
        rows = s.scalars(select(PartRevision).where(PartRevision.revision > query["after"])
                         .order_by(PartRevision.revision).limit(query["limit"])).all()
        chosen = [r for r in rows if (query["tombstones"] or not r.deleted)
                  and (query["series"] is None or r.deleted or query["series"] in r.series)]
        active = s.scalar(select(Catalogue.id).where(Catalogue.active.is_(True)))
        current = exports.lines(s, active, [r.number for r in chosen if not r.deleted])
    items = [{"cursor": str(r.revision), "id": r.number, "deleted": True} if r.deleted else
             {"cursor": str(r.revision), "deleted": False, **current[r.number]}
             for r in chosen if r.deleted or r.number in current]
    metrics.EXPORTED.labels("tombstones" if query["tombstones"] else "parts").inc(len(items))
    return mirror.page(items, [r.revision for r in rows], query["after"], latest)
