"""What vehicle data does, step by step, each inside one unit of work."""
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import func, select, update

from services.billing.access import AccessBook
from services.shared import mirror
from services.shared.database import new_id
from services.shared.errors import NotFound
from services.vehicle_data import domain, metrics, vin as vins
from services.vehicle_data.models import Access, Campaign, Ecu, Retrofit, ServiceRecord, Vehicle, Workshop
from services.vehicle_data.settings import VehicleDataSettings


@dataclass
class Context:
    store: object
    now: datetime
    tariffs: object = list  # () -> the codes of the tariffs that open vehicle data (billing's offer)
    settings: VehicleDataSettings = VehicleDataSettings(correction_days=14)


# ---- access (read model of billing's entitlements) ----------------------------------------------------------

ACCESS = AccessBook(Access)


def record_workshop(uow, data):
    if uow.session.get(Workshop, data["operator_id"]) is None:
        uow.session.add(Workshop(operator_id=data["operator_id"], name=data["legal_name"], country=data["country"],
                                 city=(data.get("address") or {}).get("city")))


def _may_read(session, operator_id, vin, now):
    return ACCESS.allows(session, operator_id, "vehicle_data", vin, now)


def _require(ctx, session, actor, vin):
    domain.require_access(ACCESS.of(session, actor["operator_id"]), vin, ctx.now, ctx.tariffs)


def _viewed(ctx, uow, actor, vin, view):
    """Who read what of which car, for the audit trail: committed with the read, or not at all."""
    uow.emit("VehicleViewed", {"operator_id": actor["operator_id"], "user_id": actor["user_id"], "vin": vin,
                               "view": view, "viewed_at": ctx.now}, subject=vin)
    uow.after_commit(lambda: metrics.VEHICLE_READS.labels(view).inc())


def _vehicle(session, vin, lock=False):
    found = session.get(Vehicle, vin, with_for_update=lock)
    if found is None:
        raise NotFound("VEHICLE_NOT_FOUND", f"The manufacturer's registry has no vehicle {vin}.", {"vin": vin})
    return found


# ---- the vehicle ------------------------------------------------------------------------------------------------

def vehicle(ctx, actor, text):
    """The decoded VIN for anyone signed in; build data and ECUs with access."""
    checked = vins.check(text)
    with ctx.store.transaction() as uow:
        s = uow.session
        found = s.get(Vehicle, checked)
        decoded = vins.decode(checked, built=found.production_date if found else None)
        answer = {"decoded": asdict(decoded) | {"check_digit_valid": decoded.check_digit_valid},
                  "registered": found is not None, "access": False, "build": None, "ecus": None, "offer": None}
        if not _may_read(s, actor["operator_id"], checked, ctx.now):
            answer["offer"] = {"message": domain.NO_ACCESS, "tariffs": ctx.tariffs()}
            return answer
        answer["access"] = True
        if found is not None:
            answer["build"] = _order(s, found)
            answer["ecus"] = _ecus(s, checked)
            _viewed(ctx, uow, actor, checked, "build_data")
        return answer


def describe(ctx, text):
    """For other services (air, programming): what the registry knows of a vehicle, no access check."""
    checked = vins.check(text)
    with ctx.store.read() as s:
        found = _vehicle(s, checked)
        decoded = vins.decode(checked, built=found.production_date)
        return {"vin": checked, "model_year": decoded.model_year, **_order(s, found), "ecus": _ecus(s, checked)}


def _build(v):
    return {"series": v.series, "model_code": v.model_code, "engine_code": v.engine_code,
            "transmission": v.transmission, "production_date": v.production_date, "paint": v.paint,
            "options": v.options, "country": v.country}


def _order(session, v):
    """The car's order as it stands: its build data with the options workshops retrofitted since, and its
    version (0 as built, then one per retrofit)."""
    fitted = session.scalars(select(Retrofit).where(Retrofit.vin == v.vin).order_by(Retrofit.version)).all()
    return _build(v) | {"options": sorted(set(v.options) | {r.option for r in fitted}),
                        "order_version": len(fitted),
                        "retrofits": [{"option": r.option, "version": r.version, "added_at": r.added_at}
                                      for r in fitted]}


def replace_ecu(ctx, text, payload):
    """For programming: the unit a workshop fitted at an address, as it identified itself after the restore (its
    part number, software and serial): the registry's record of the car follows, and the change is in the car's
    history (EcuReplaced, in the trail). Told again with the same unit, nothing changes."""
    checked = vins.check(text)
    with ctx.store.transaction() as uow:
        s = uow.session
        _vehicle(s, checked)
        ecu = s.scalar(select(Ecu).where(Ecu.vin == checked, Ecu.address == payload["address"]).with_for_update())
        if ecu is None:
            raise NotFound("ECU_NOT_IN_CAR", f"The registry knows no ECU {payload['address']} in {checked}.",
                           {"field": "address"})
        if ecu.serial_number == payload["serial_number"]:
            return {"vin": checked, **_ecu(ecu)}
        before = (ecu.hardware_part_number, ecu.serial_number or payload.get("old_serial_number"))
        ecu.hardware_part_number, ecu.software_version = payload["hardware_part_number"], payload["software_version"]
        ecu.serial_number = payload["serial_number"]
        uow.emit("EcuReplaced", {"vin": checked, "address": ecu.address, "name": ecu.name,
                                 "old_hardware_part_number": before[0], "old_serial_number": before[1],
                                 "hardware_part_number": ecu.hardware_part_number,
                                 "serial_number": ecu.serial_number, "operator_id": payload["operator_id"],
                                 "user_id": payload["user_id"], "job_id": payload["job_id"],
                                 "replaced_at": ctx.now}, subject=checked)
        return {"vin": checked, **_ecu(ecu)}


def retrofit(ctx, actor, text, payload):
    """An option added to the car's order by the workshop that fitted it: the order's next version, in the trail
    (OptionRetrofitted); the coding job then targets it. Needs access to the car's data, as reading it does."""
    domain.require_retrofitter(actor)
    checked = vins.check(text)
    option = payload["option"]
    with ctx.store.transaction() as uow:
        s = uow.session
        found = _vehicle(s, checked, lock=True)  # two retrofits of one car at once: the second waits its turn
        _require(ctx, s, actor, checked)
        order = _order(s, found)
        domain.require_new_option(option, order["options"])
        version = order["order_version"] + 1
        s.add(Retrofit(id=new_id(), vin=checked, option=option, version=version, operator_id=actor["operator_id"],
                       user_id=actor["user_id"], added_at=ctx.now))
        uow.emit("OptionRetrofitted", {"vin": checked, "option": option, "order_version": version,
                                       "operator_id": actor["operator_id"], "user_id": actor["user_id"],
                                       "retrofitted_at": ctx.now}, subject=checked)
        s.flush()
        return {"vin": checked, **_order(s, found)}


def _ecu(e):
    return {"address": e.address, "name": e.name, "hardware_part_number": e.hardware_part_number,
            "software_version": e.software_version, "serial_number": e.serial_number}


def _ecus(session, vin):
    return [_ecu(e) for e in session.scalars(select(Ecu).where(Ecu.vin == vin).order_by(Ecu.address)).all()]


# ---- service history --------------------------------------------------------------------------------------------

def history(ctx, actor, text):
    checked = vins.check(text)
    with ctx.store.transaction() as uow:
        s = uow.session
        _require(ctx, s, actor, checked)
        _vehicle(s, checked)
        _viewed(ctx, uow, actor, checked, "service_history")
        return {"vin": checked, "records": _history(ctx, s, checked, actor["operator_id"])}


def _history(ctx, session, vin, operator_id):
    versions = session.scalars(select(ServiceRecord).where(ServiceRecord.vin == vin)
                               .order_by(ServiceRecord.record_id, ServiceRecord.version)).all()
    current = [r for r in versions if r.current]
    flagged = domain.odometer_discrepancies(current)
    workshops = {w.operator_id: w for w in session.scalars(select(Workshop).where(
        Workshop.operator_id.in_({r.operator_id for r in current}))).all()}
    records = []
    for r in sorted(current, key=lambda r: (r.performed_on, r.first_recorded_at), reverse=True):
        until = domain.correctable_until(r, ctx.settings.correction_days)
        records.append({
            "record_id": r.record_id, "version": r.version, "vin": r.vin, "operator_id": r.operator_id,
            "by_your_workshop": r.operator_id == operator_id, "workshop": _workshop(workshops.get(r.operator_id)),
            "performed_on": r.performed_on,
            "odometer_km": r.odometer_km, "items": r.items, "recorded_at": r.recorded_at,
            "first_recorded_at": r.first_recorded_at, "correctable_until": until if until > ctx.now else None,
            "odometer_discrepancy": r.record_id in flagged,
            "versions": [{"version": v.version, "performed_on": v.performed_on.isoformat(),
                          "odometer_km": v.odometer_km, "items": v.items, "recorded_at": v.recorded_at.isoformat()}
                         for v in versions if v.record_id == r.record_id and not v.current]})
    return records


def _workshop(found):
    return {"name": found.name, "city": found.city, "country": found.country} if found else None


def add_record(ctx, actor, text, payload):
    """A new record, or a correction (a new version) of one of the workshop's records while it may be corrected.
    ServiceRecordAdded goes out with it."""
    checked = vins.check(text)
    with ctx.store.transaction() as uow:
        s = uow.session
        _require(ctx, s, actor, checked)
        _vehicle(s, checked)
        campaign_codes = set(s.scalars(select(Campaign.code)).all())
        domain.check_record(payload, ctx.now.date(), campaign_codes)
        record_id, version, first = new_id(), 1, ctx.now
        if payload.get("corrects"):
            original = s.scalar(select(ServiceRecord).where(
                ServiceRecord.record_id == payload["corrects"], ServiceRecord.current.is_(True),
                ServiceRecord.vin == checked))
            if original is None:
                raise NotFound("RECORD_NOT_FOUND", "There is no such service record for this vehicle.",
                               {"field": "corrects"})
            domain.check_correction(original, actor["operator_id"], ctx.now, ctx.settings.correction_days)
            # the conditional update makes two racing corrections end with one current version
            if not s.execute(update(ServiceRecord).where(ServiceRecord.id == original.id,
                                                         ServiceRecord.current.is_(True))
                             .values(current=False)).rowcount:
                raise NotFound("RECORD_NOT_FOUND", "The record was corrected meanwhile; reload it.",
                               {"field": "corrects"})
            record_id, version, first = original.record_id, original.version + 1, original.first_recorded_at
        items = [{"code": i["code"], "text": i.get("text", "")} for i in payload["items"]]
        s.add(ServiceRecord(id=new_id(), record_id=record_id, version=version, current=True, vin=checked,
                            operator_id=actor["operator_id"], author_user_id=actor["user_id"],
                            performed_on=payload["performed_on"], odometer_km=payload["odometer_km"], items=items,
                            first_recorded_at=first, recorded_at=ctx.now))
        s.flush()
        uow.emit("ServiceRecordAdded", {
            "record_id": record_id, "vin": checked, "operator_id": actor["operator_id"],
            "performed_on": payload["performed_on"], "odometer_km": payload["odometer_km"],
            "work_codes": [i["code"] for i in items]}, subject=checked)
        kind = "correction" if version > 1 else "new"
        uow.after_commit(lambda: metrics.SERVICE_RECORDS.labels(kind).inc())
        return next(r for r in _history(ctx, s, checked, actor["operator_id"]) if r["record_id"] == record_id)


# ---- maintenance and campaigns -------------------------------------------------------------------------------------

def maintenance(ctx, actor, text, odometer_km=None):
    checked = vins.check(text)
    with ctx.store.transaction() as uow:
        s = uow.session
        _require(ctx, s, actor, checked)
        found = _vehicle(s, checked)
        _viewed(ctx, uow, actor, checked, "maintenance")
        records = _current_records(s, checked)
        reading = odometer_km if odometer_km is not None else max((r.odometer_km for r in records), default=0)
        plan = domain.maintenance_plan(found.series, found.production_date, records, reading, ctx.now.date())
        return {"vin": checked, "series": found.series, "odometer_km": reading, "as_of": ctx.now.date(),
                "items": [asdict(d) for d in plan]}


def campaigns(ctx, actor, text):
    """The campaigns that concern the vehicle: open until a service record carries the campaign's code."""
    checked = vins.check(text)
    with ctx.store.transaction() as uow:
        s = uow.session
        _require(ctx, s, actor, checked)
        found = _vehicle(s, checked)
        _viewed(ctx, uow, actor, checked, "campaigns")
        closing = {}
        for r in sorted(_current_records(s, checked), key=lambda r: r.performed_on):
            for item in r.items:
                closing.setdefault(item["code"], r.record_id)
        concerned = [c for c in s.scalars(select(Campaign).order_by(Campaign.published_on.desc())).all()
                     if domain.concerns(c, found)]
        return {"vin": checked, "campaigns": [
            {"code": c.code, "kind": c.kind, "title": c.title, "description": c.description,
             "published_on": c.published_on, "status": "done" if c.code in closing else "open",
             "closed_by_record": closing.get(c.code)} for c in concerned]}


def _current_records(session, vin):
    return session.scalars(select(ServiceRecord).where(ServiceRecord.vin == vin,
                                                       ServiceRecord.current.is_(True))).all()


# ---- partners' mirrors -----------------------------------------------------------------------------------------

def registry_changes(ctx, reader, query):
    """A page of the registry's cars after `after` (a revision), oldest first: build data and ECUs, for a partner's
    mirror of a series. Needs access to vehicle data that is not one car's (a VIN pass opens one car); each page
    read is in the trail (VehiclesExported: how many cars, of which series, from which cursor)."""
    with ctx.store.transaction() as uow:
        s = uow.session
        domain.require_registry_access(ACCESS.of(s, reader["operator_id"]), ctx.now, ctx.tariffs)
        latest = s.scalar(select(func.max(Vehicle.revision))) or 0
        mirror.require_known(query["after"], latest, "The registry", "/api/v1/exports/vehicles")
        rows = s.scalars(select(Vehicle).where(Vehicle.revision > query["after"])
                         .order_by(Vehicle.revision).limit(query["limit"])).all()
        chosen = [r for r in rows if query["series"] is None or r.series == query["series"]]
        ecus = {}
        for ecu in s.scalars(select(Ecu).where(Ecu.vin.in_([r.vin for r in chosen])).order_by(Ecu.address)):
            ecus.setdefault(ecu.vin, []).append(_ecu(ecu))
        answer = mirror.page([{"cursor": str(r.revision), "vin": r.vin, "deleted": False, **_build(r),
                               "ecus": ecus.get(r.vin, [])} for r in chosen], [r.revision for r in rows],
                             query["after"], latest)
        if chosen:
            uow.emit("VehiclesExported", {"operator_id": reader["operator_id"], "user_id": reader["user_id"],
                                          "series": query["series"], "vehicles": len(chosen),
                                          "after": query["after"], "until": answer["next"], "exported_at": ctx.now})
        return answer


def maintenance_changes(ctx, reader, query):
    """The maintenance schedules for a partner's mirror: they change with the rules' revision, all at once, so
    an export and a feed from an older cursor both hold every schedule, a feed at the newest nothing. Needs
    access to vehicle data that is not one car's."""
    with ctx.store.read() as s:
        domain.require_registry_access(ACCESS.of(s, reader["operator_id"]), ctx.now, ctx.tariffs)
    latest = domain.MAINTENANCE["revision"]
    mirror.require_known(query["after"], latest, "The maintenance schedules", "/api/v1/exports/maintenance")
    items = domain.maintenance_schedules(query["series"]) if query["after"] < latest else []
    return mirror.page(items, [latest] if items else [], query["after"], latest)
