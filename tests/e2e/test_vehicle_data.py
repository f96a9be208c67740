"""Vehicle data through the gateway: a VIN decoded for anyone, the rest with access; service records with their
14-day corrections; the maintenance plan and campaigns following the records."""
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from services.shared.database import make_engine
from deploy import vehicles
from services.vehicle_data.models import ServiceRecord
from tests.e2e.conftest import Workshop, buy, error, fill_registry, top_up
from tests.helpers import eventually

DEMO = vehicles.generate(40, seed=3)
LISTED = DEMO["vehicles"][0]  # on the VIN list of the R-BAT-0925 recall
OTHER = DEMO["vehicles"][5]


@pytest.fixture
def registry(system):
    fill_registry(system, vehicles.generate(40, seed=3))
    engine = make_engine(system["DATABASE_URLS"]["vehicle_data"])
    yield engine
    engine.dispose()


def workshop_with(api, tariff_code=None, email="meister@werkstatt-mueller.de", **extra):
    """A workshop that bought `tariff_code`, once vehicle data has heard of it."""
    workshop = Workshop(api, email=email, vat_id=None)
    if tariff_code:
        eventually(lambda: top_up(api, workshop, 10000).status_code == 201, what="billing to know the workshop")
        assert buy(api, workshop, tariff_code, **extra).status_code == 201
    return workshop


def readable(api, workshop, vin):
    return api("GET", f"/api/v1/vehicles/{vin}/service-records", workshop.token).status_code == 200


def record(api, workshop, vin, **body):
    body = {"performed_on": date.today().isoformat(), "odometer_km": 42000,
            "items": [{"code": "ENGINE_OIL", "text": "5W-30, 5.2 l"}], **body}
    return api("POST", f"/api/v1/vehicles/{vin}/service-records", workshop.token, json=body)


def test_anyone_signed_in_gets_the_vin_decoded_and_the_rest_needs_access(api, registry):
    workshop = workshop_with(api)
    answer = api("GET", f"/api/v1/vehicles/{LISTED['vin'].lower()}", workshop.token)
    assert answer.status_code == 200, answer.text
    vehicle = answer.json()
    assert vehicle["decoded"]["vin"] == LISTED["vin"] and vehicle["decoded"]["manufacturer"] == "BMW"
    assert vehicle["decoded"]["model_year"] == int(LISTED["production_date"][:4])
    assert vehicle["registered"] and not vehicle["access"] and vehicle["build"] is None and vehicle["ecus"] is None
    assert "vin-1d" in vehicle["offer"]["tariffs"]
    for path in ("service-records", "maintenance", "campaigns"):
        refused = api("GET", f"/api/v1/vehicles/{LISTED['vin']}/{path}", workshop.token)
        assert refused.status_code == 402 and error(refused)["code"] == "VEHICLE_DATA_ACCESS_REQUIRED"
    assert record(api, workshop, LISTED["vin"]).status_code == 402
    assert api("GET", f"/api/v1/vehicles/{LISTED['vin']}").status_code == 401


@pytest.mark.parametrize("vin, code, position", [
    ("WBAOH5C55BA271443", "VIN_LETTER_NOT_ALLOWED", 4),
    ("WBAPH5C55BA2714", "VIN_LENGTH", None),
    ("1M8GDM9A1KP042788", "VIN_CHECK_DIGIT_MISMATCH", 9),
    ("WBAPH5C55UA271443", "VIN_MODEL_YEAR_CODE", 10),
])
def test_a_malformed_vin_is_refused_by_the_rule_it_breaks(api, registry, vin, code, position):
    workshop = workshop_with(api)
    answer = api("GET", f"/api/v1/vehicles/{vin}", workshop.token)
    assert answer.status_code == 422 and error(answer)["code"] == code
    assert error(answer)["details"].get("position") == position


def test_a_workshop_with_access_sees_build_data_ecus_and_adds_records_that_move_the_plan(api, registry):
    workshop = workshop_with(api, "air-1h")
    vin = LISTED["vin"]
    eventually(lambda: readable(api, workshop, vin), what="vehicle data to hear of the purchase")
    vehicle = api("GET", f"/api/v1/vehicles/{vin}", workshop.token).json()
    assert vehicle["access"] and vehicle["build"]["series"] == LISTED["series"]
    assert vehicle["build"]["production_date"] == LISTED["production_date"]
    assert [e["address"] for e in vehicle["ecus"]] == sorted(e["address"] for e in LISTED["ecus"])

    def oil():
        plan = api("GET", f"/api/v1/vehicles/{vin}/maintenance", workshop.token, params={"odometer_km": 42100})
        return next(item for item in plan.json()["items"] if item["code"] == "ENGINE_OIL")
    before = oil()
    assert before["last_done_on"] is None and before["due_km"] == 30000 and before["status"] == "overdue"
    added = record(api, workshop, vin)
    assert added.status_code == 201, added.text
    after = oil()
    assert after["last_done_on"] == date.today().isoformat() and after["due_km"] == 72000
    assert after["status"] == "ok" and after["km_left"] == 72000 - 42100

    recall = lambda: next(c for c in api("GET", f"/api/v1/vehicles/{vin}/campaigns",  # noqa: E731
                                         workshop.token).json()["campaigns"] if c["code"] == "R-BAT-0925")
    assert recall()["status"] == "open" and recall()["kind"] == "recall"
    closing = record(api, workshop, vin, items=[{"code": "R-BAT-0925", "text": "connector seal replaced"}])
    assert closing.status_code == 201
    assert recall()["status"] == "done" and recall()["closed_by_record"] == closing.json()["record_id"]
    history = api("GET", f"/api/v1/vehicles/{vin}/service-records", workshop.token).json()["records"]
    assert {r["record_id"] for r in history} == {added.json()["record_id"], closing.json()["record_id"]}


def test_corrections_are_new_versions_by_the_author_within_fourteen_days(api, registry, system):
    author, other = workshop_with(api, "air-1d"), workshop_with(api, "air-1d", email="chef@andere-werkstatt.de")
    vin = OTHER["vin"]
    eventually(lambda: readable(api, author, vin) and readable(api, other, vin), what="access to arrive")
    first = record(api, author, vin, odometer_km=51000).json()
    corrected = record(api, author, vin, odometer_km=15000, corrects=first["record_id"])
    assert corrected.status_code == 201, corrected.text
    assert corrected.json()["record_id"] == first["record_id"] and corrected.json()["version"] == 2
    assert [v["odometer_km"] for v in corrected.json()["versions"]] == [51000], "the first version is kept"
    [seen] = api("GET", f"/api/v1/vehicles/{vin}/service-records", other.token).json()["records"]
    assert seen["odometer_km"] == 15000 and not seen["by_your_workshop"]
    assert seen["workshop"] == {"name": "Werkstatt Müller", "city": "München", "country": "DE"}

    refused = record(api, other, vin, corrects=first["record_id"])
    assert refused.status_code == 403 and error(refused)["code"] == "NOT_YOUR_RECORD"
    with Session(registry) as session, session.begin():
        session.execute(update(ServiceRecord).values(
            first_recorded_at=datetime.now(timezone.utc) - timedelta(days=15)))
    late = record(api, author, vin, corrects=first["record_id"])
    assert late.status_code == 403 and error(late)["code"] == "RECORD_PERMANENT"
    [kept] = api("GET", f"/api/v1/vehicles/{vin}/service-records", author.token).json()["records"]
    assert kept["version"] == 2 and kept["correctable_until"] is None


def test_a_lower_odometer_than_an_earlier_record_is_kept_and_flagged_for_everyone(api, registry):
    workshop = workshop_with(api, "air-1h")
    vin = OTHER["vin"]
    eventually(lambda: readable(api, workshop, vin), what="access to arrive")
    earlier = date.today() - timedelta(days=200)
    record(api, workshop, vin, performed_on=earlier.isoformat(), odometer_km=80000)
    lower = record(api, workshop, vin, odometer_km=60000)
    assert lower.status_code == 201 and lower.json()["odometer_discrepancy"] is True
    flags = {r["odometer_km"]: r["odometer_discrepancy"]
             for r in api("GET", f"/api/v1/vehicles/{vin}/service-records", workshop.token).json()["records"]}
    assert flags == {80000: False, 60000: True}


@pytest.mark.parametrize("body, code, field", [
    ({"performed_on": (date.today() + timedelta(days=1)).isoformat()}, "DATE_IN_FUTURE", "performed_on"),
    ({"odometer_km": -5}, "ODOMETER_OUT_OF_RANGE", "odometer_km"),
    ({"odometer_km": 9_999_999}, "ODOMETER_OUT_OF_RANGE", "odometer_km"),
    ({"items": [{"code": "ENGINE_OIL"}, {"code": "TURBO_WASH"}]}, "UNKNOWN_WORK_CODE", "items.1.code"),
    ({"corrects": "no-such-record"}, "RECORD_NOT_FOUND", "corrects"),
])
def test_a_bad_record_is_refused_naming_the_field_and_nothing_is_written(api, registry, body, code, field):
    workshop = workshop_with(api, "air-1h")
    vin = LISTED["vin"]
    eventually(lambda: readable(api, workshop, vin), what="access to arrive")
    refused = record(api, workshop, vin, **body)
    assert refused.status_code in (403, 404, 422) and error(refused)["code"] == code
    assert error(refused)["details"]["field"] == field
    assert api("GET", f"/api/v1/vehicles/{vin}/service-records", workshop.token).json()["records"] == []


def test_a_vin_pass_opens_that_vehicle_only(api, registry):
    workshop = workshop_with(api, "vin-1d", vin=LISTED["vin"])
    eventually(lambda: readable(api, workshop, LISTED["vin"]), what="the VIN pass to arrive")
    assert api("GET", f"/api/v1/vehicles/{LISTED['vin']}", workshop.token).json()["access"] is True
    refused = api("GET", f"/api/v1/vehicles/{OTHER['vin']}/maintenance", workshop.token)
    assert refused.status_code == 402
    assert api("GET", "/api/v1/vehicles/WBA00000000000000/campaigns", workshop.token).status_code == 402


def test_a_vin_the_registry_does_not_know_decodes_but_has_no_data(api, registry):
    workshop = workshop_with(api, "air-1h")
    unknown = "WBA8E9C50GK643215"
    eventually(lambda: readable(api, workshop, LISTED["vin"]), what="access to arrive")
    vehicle = api("GET", f"/api/v1/vehicles/{unknown}", workshop.token).json()
    assert vehicle["access"] and not vehicle["registered"] and vehicle["build"] is None
    assert vehicle["decoded"]["check_digit_valid"] is False and not vehicle["decoded"]["check_digit_required"]
    missing = api("GET", f"/api/v1/vehicles/{unknown}/maintenance", workshop.token)
    assert missing.status_code == 404 and error(missing)["code"] == "VEHICLE_NOT_FOUND"
