"""Vehicle data's rules in plain Python: who may read a vehicle, what a service record may say, when it can be
corrected, what is due for maintenance, and which campaigns concern a vehicle."""
import calendar
import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from services.billing.access import covers as shared_covers
from services.shared.errors import Conflict, Forbidden, PaymentRequired, invalid_field

HERE = Path(__file__).parent
CORRECTION_DAYS = 14
MAX_ODOMETER_KM = 2_000_000  # beyond any car's life: a typo
WORK_CODES = json.loads((HERE / "work_codes.json").read_text())["codes"]
MAINTENANCE = json.loads((HERE / "maintenance.json").read_text())


# ---- access ---------------------------------------------------------------------------------------------------

def covers(access, vin, now):
    """Whether one entitlement lets its operator read this vehicle's data now."""
    return shared_covers(access, "vehicle_data", vin, now)


NO_ACCESS = ("Build data, ECUs, service history, maintenance and campaigns need access to vehicle data: technical "
             "information for an hour or longer, or a VIN pass.")


def require_access(accesses, vin, now, tariffs):
    """`tariffs()`: what opens vehicle data (billing's offer), asked only to name it in a refusal."""
    if not any(covers(a, vin, now) for a in accesses):
        raise PaymentRequired("VEHICLE_DATA_ACCESS_REQUIRED",
                              f"Reading {vin}'s data needs access to vehicle data: technical information for an "
                              "hour or longer, or a VIN pass for this vehicle.",
                              {"vin": vin, "tariffs": tariffs()})


def require_registry_access(accesses, now, tariffs):
    """Exporting the registry: access to every car's data (a VIN pass opens one car, not the registry)."""
    if not any(covers(a, None, now) for a in accesses):
        raise PaymentRequired("VEHICLE_DATA_ACCESS_REQUIRED", "Exporting the registry needs access to vehicle data "
                              "for every car: technical information for an hour or longer (a VIN pass opens one "
                              "car).", {"tariffs": tariffs()})


# ---- the order: retrofits -------------------------------------------------------------------------------------

RETROFITTERS = ("owner", "admin", "technician")


def require_retrofitter(actor):
    if actor.get("role") not in RETROFITTERS:
        raise Forbidden("ROLE_NOT_ALLOWED", "A workshop's users record the options they fit.",
                        {"role": actor.get("role")})


def require_new_option(option, options):
    if option in options:
        raise Conflict("OPTION_IN_ORDER", f"The car's order has {option} already: nothing to retrofit.",
                       {"field": "option"})


# ---- service records ------------------------------------------------------------------------------------------

def check_record(record, today, campaign_codes):
    """A record's own rules: not in the future, a plausible odometer, known work codes."""
    if record["performed_on"] > today:
        raise invalid_field("DATE_IN_FUTURE", "performed_on", "not_in_future",
                            f"The work cannot have been done after today ({today.isoformat()}).")
    if not 0 <= record["odometer_km"] <= MAX_ODOMETER_KM:
        raise invalid_field("ODOMETER_OUT_OF_RANGE", "odometer_km", "between_0_and_2000000",
                            f"An odometer reading is between 0 and {MAX_ODOMETER_KM} km.")
    for index, item in enumerate(record["items"]):
        if item["code"] not in WORK_CODES and item["code"] not in campaign_codes:
            raise invalid_field("UNKNOWN_WORK_CODE", f"items.{index}.code", "known_work_code",
                                f"{item['code']!r} is not a work code: use one of the catalogue's codes or a "
                                "campaign code.", known=sorted(WORK_CODES))


def correctable_until(record, days):
    """Until when the workshop that wrote a record may correct it (AOS_RECORD_CORRECTION_DAYS)."""
    return record.first_recorded_at + timedelta(days=days)


def check_correction(original, operator_id, now, days=CORRECTION_DAYS):
    """Only the workshop that wrote a record may correct it, and only for `days` (14 unless the manufacturer sets
    another); then it is permanent."""
    if original.operator_id != operator_id:
        raise Forbidden("NOT_YOUR_RECORD", "Only the workshop that wrote a service record may correct it.",
                        {"field": "corrects"})
    if now > correctable_until(original, days):
        raise Forbidden("RECORD_PERMANENT", f"A service record can be corrected for {days} days; "
                        "this one is permanent now. Add a new record instead.",
                        {"field": "corrects", "recorded_at": original.first_recorded_at.isoformat()})


def odometer_discrepancies(records):
    """Ids of records whose odometer is lower than that of a record dated earlier: shown to everyone."""
    flagged, highest = set(), None
    for r in sorted(records, key=lambda r: (r.performed_on, r.first_recorded_at)):
        if highest is not None and r.odometer_km < highest:
            flagged.add(r.record_id)
        highest = r.odometer_km if highest is None else max(highest, r.odometer_km)
    return flagged


# ---- maintenance ----------------------------------------------------------------------------------------------

def rules_for(series):
    rules = {r["code"]: r for r in MAINTENANCE["default"]}
    rules.update({r["code"]: r for r in MAINTENANCE["series"].get(series, [])})
    return list(rules.values())


def maintenance_schedules(series):
    """The schedules as partners mirror them, at the rules' revision: the `default` every series follows, and each
    series the manufacturer sets apart, with its rules resolved (the default's, its own added or overriding)."""
    revision = MAINTENANCE["revision"]
    lines = [{"cursor": str(revision), "id": "default", "deleted": False, "series": None,
              "rules": MAINTENANCE["default"]}]
    lines += [{"cursor": str(revision), "id": code, "deleted": False, "series": code, "rules": rules_for(code)}
              for code in sorted(MAINTENANCE["series"])]
    common = {"warn_km": MAINTENANCE["warn_km"], "warn_days": MAINTENANCE["warn_days"]}
    return [dict(line, **common) for line in lines if series is None or line["series"] in (None, series)]


def add_months(day, months):
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Due:
    code: str
    name: str
    status: str  # overdue | due_soon | ok
    due_km: int | None
    due_on: date | None
    km_left: int | None
    days_left: int | None
    last_done_on: date | None
    last_done_km: int | None


def maintenance_plan(series, production_date, records, odometer_km, today):
    """Each rule of the series with when it is next due, from the last record that did it (or from the build),
    and whether it is overdue, coming or fine at `odometer_km` and `today`."""
    warn_km, warn_days = MAINTENANCE["warn_km"], MAINTENANCE["warn_days"]
    plan = []
    for rule in rules_for(series):
        done = [r for r in records if any(item["code"] == rule["code"] for item in r.items)]
        last = max(done, key=lambda r: (r.performed_on, r.odometer_km), default=None)
        base_day, base_km = (last.performed_on, last.odometer_km) if last else (production_date, 0)
        due_km = base_km + rule["every_km"] if rule["every_km"] else None
        due_on = add_months(base_day, rule["every_months"]) if rule["every_months"] else None
        km_left = due_km - odometer_km if due_km is not None else None
        days_left = (due_on - today).days if due_on is not None else None
        if (km_left is not None and km_left <= 0) or (days_left is not None and days_left <= 0):
            status = "overdue"
        elif (km_left is not None and km_left <= warn_km) or (days_left is not None and days_left <= warn_days):
            status = "due_soon"
        else:
            status = "ok"
        plan.append(Due(rule["code"], rule["name"], status, due_km, due_on, km_left, days_left,
                        last.performed_on if last else None, last.odometer_km if last else None))
    order = {"overdue": 0, "due_soon": 1, "ok": 2}
    return sorted(plan, key=lambda d: (order[d.status], d.days_left if d.days_left is not None else 10**6))


# ---- campaigns -----------------------------------------------------------------------------------------------

def concerns(campaign, vehicle):
    """Whether a campaign targets this vehicle: by its VIN list, or by series, model and production dates."""
    if vehicle.vin in campaign.vins:
        return True
    if not (campaign.series or campaign.model_codes or campaign.produced_from or campaign.produced_until):
        return False  # a campaign with no rule targets only its VIN list
    return ((not campaign.series or vehicle.series in campaign.series)
            and (not campaign.model_codes or vehicle.model_code in campaign.model_codes)
            and (campaign.produced_from is None or vehicle.production_date >= campaign.produced_from)
            and (campaign.produced_until is None or vehicle.production_date <= campaign.produced_until))
