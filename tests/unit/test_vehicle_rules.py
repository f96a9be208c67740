"""Vehicle data's rules: who may read, record rules and corrections, the maintenance plan, campaign targets."""
from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace as Row

import pytest

from services.shared.errors import Forbidden, InvalidInput, PaymentRequired
from services.vehicle_data import domain

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
VIN = "WBA7K7109MW240891"


def access(scopes, vin=None, valid_from=NOW - timedelta(hours=1), valid_until=NOW + timedelta(hours=1), expired_at=None):
    return Row(scopes=scopes, vin=vin, valid_from=valid_from, valid_until=valid_until, expired_at=expired_at)


@pytest.mark.parametrize("grant, allowed", [
    (access(["air", "vehicle_data"]), True),
    (access(["vin"], vin=VIN), True),
    (access(["vin"], vin="WBA7K7109MW240892"), False),
    (access(["programming"]), False),
    (access(["air", "vehicle_data"], valid_until=NOW), False),
    (access(["air", "vehicle_data"], expired_at=NOW - timedelta(seconds=1)), False),
    (access(["air", "vehicle_data"], valid_from=NOW + timedelta(minutes=1)), False),
])
def test_who_may_read_a_vehicle(grant, allowed):
    assert domain.covers(grant, VIN, NOW) is allowed
    if not allowed:
        with pytest.raises(PaymentRequired) as refused:
            domain.require_access([grant], VIN, NOW, lambda: ["air-1h", "vin-1d"])
        assert refused.value.details["tariffs"] == ["air-1h", "vin-1d"]  # what billing offers, named


def record(**kw):
    return {"performed_on": date(2026, 11, 20), "odometer_km": 1000, "items": [{"code": "ENGINE_OIL"}], **kw}


def test_record_rules_name_the_field():
    today = date(2026, 11, 23)
    domain.check_record(record(items=[{"code": "R-BAT-0925"}]), today, {"R-BAT-0925"})
    for bad, field in ((record(performed_on=date(2026, 11, 24)), "performed_on"),
                       (record(odometer_km=2_000_001), "odometer_km"),
                       (record(items=[{"code": "ENGINE_OIL"}, {"code": "NOPE"}]), "items.1.code")):
        with pytest.raises(InvalidInput) as refused:
            domain.check_record(bad, today, set())
        assert refused.value.details["field"] == field


def test_only_the_author_corrects_and_only_for_fourteen_days():
    original = Row(operator_id="op-1", first_recorded_at=NOW - timedelta(days=14))
    domain.check_correction(original, "op-1", NOW)
    with pytest.raises(Forbidden):
        domain.check_correction(original, "op-2", NOW)
    with pytest.raises(Forbidden):
        domain.check_correction(original, "op-1", NOW + timedelta(seconds=1))


def test_a_lower_odometer_than_an_earlier_dated_record_is_flagged():
    rows = [Row(record_id=n, performed_on=d, first_recorded_at=NOW, odometer_km=km)
            for n, d, km in (("a", date(2024, 1, 1), 20000), ("b", date(2025, 1, 1), 15000),
                             ("c", date(2026, 1, 1), 30000), ("d", date(2023, 1, 1), 5000))]
    assert domain.odometer_discrepancies(rows) == {"b"}


def test_months_end_on_the_last_day_when_the_day_does_not_exist():
    assert domain.add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert domain.add_months(date(2023, 11, 30), 24) == date(2025, 11, 30)


def plan(series, records, odometer, today=date(2026, 11, 23), built=date(2025, 6, 1)):
    return {d.code: d for d in domain.maintenance_plan(series, built, records, odometer, today)}


def test_maintenance_is_due_by_distance_or_time_whichever_comes_first():
    oil = Row(performed_on=date(2026, 1, 10), odometer_km=40000, items=[{"code": "ENGINE_OIL"}])
    fresh = plan("G20", [oil], 41000)
    assert fresh["ENGINE_OIL"].status == "ok" and fresh["ENGINE_OIL"].due_km == 70000
    assert fresh["ENGINE_OIL"].due_on == date(2028, 1, 10)
    assert plan("G20", [oil], 68600)["ENGINE_OIL"].status == "due_soon"  # within 1,500 km
    assert plan("G20", [oil], 70000)["ENGINE_OIL"].status == "overdue"
    assert plan("G20", [oil], 41000, today=date(2027, 12, 20))["ENGINE_OIL"].status == "due_soon"  # within 30 days
    assert fresh["BRAKE_FLUID"].due_km is None and fresh["BRAKE_FLUID"].due_on == date(2027, 6, 1)  # from the build


def test_a_series_has_its_own_rules_on_top_of_the_default():
    m3 = plan("G80", [], 0)
    assert m3["ENGINE_OIL"].due_km == 15000 and "FUEL_FILTER" not in m3
    assert plan("G05", [], 0)["FUEL_FILTER"].due_km == 90000


def campaign(**kw):
    return Row(**{"vins": [], "series": [], "model_codes": [], "produced_from": None, "produced_until": None, **kw})


def test_campaigns_target_by_series_model_and_production_or_by_vin():
    car = Row(vin=VIN, series="G20", model_code="5F31", production_date=date(2020, 5, 1))
    assert domain.concerns(campaign(series=["G20"], produced_from=date(2019, 3, 1),
                                    produced_until=date(2021, 6, 30)), car)
    assert not domain.concerns(campaign(series=["G20"], produced_until=date(2019, 12, 31)), car)
    assert not domain.concerns(campaign(series=["G20"], model_codes=["5F11"]), car)
    assert not domain.concerns(campaign(series=["G05"]), car)
    assert domain.concerns(campaign(vins=[VIN]), car)
    assert not domain.concerns(campaign(vins=["WBA7K7109MW240892"]), car)
