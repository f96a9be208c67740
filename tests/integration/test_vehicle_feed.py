"""The manufacturer's vehicle feed: refused whole with every bad row listed, imported idempotently."""
import json
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.shared.database import make_engine
from services.shared.importer import Refused
from deploy import vehicles
from services.vehicle_data import feed
from services.vehicle_data.models import Campaign, Ecu, Vehicle


@pytest.fixture
def registry(database_urls):
    engine = make_engine(database_urls["vehicle_data"])
    yield engine
    engine.dispose()


def counts(engine):
    with Session(engine) as s:
        return tuple(s.scalar(select(func.count()).select_from(t)) for t in (Vehicle, Ecu, Campaign))


def write(tmp_path, document):
    path = tmp_path / "feed.json"
    path.write_text(json.dumps(document))
    return path


def test_a_feed_with_bad_rows_is_refused_whole_and_lists_every_problem(registry, tmp_path):
    document = vehicles.generate(20, seed=5)
    rows = document["vehicles"]
    rows[2]["vin"] = rows[2]["vin"][:9] + "O" + rows[2]["vin"][10:]
    rows[4]["production_date"] = "2999-01-01"
    del rows[7]["engine_code"]
    rows[9]["ecus"].append(dict(rows[9]["ecus"][0]))
    rows[11]["vin"] = rows[10]["vin"]
    document["campaigns"][0]["kind"] = "rumour"
    with pytest.raises(Refused) as refused:
        feed.import_file(registry, write(tmp_path, document))
    problems = {(p.file, p.field) for p in refused.value.problems}
    assert problems == {("feed.json: vehicles[2]", "vin"), ("feed.json: vehicles[4]", "production_date"),
                        ("feed.json: vehicles[7]", "engine_code"), ("feed.json: vehicles[9]", "ecus"),
                        ("feed.json: vehicles[11]", "vin"), ("feed.json: campaigns[0]", "kind")}
    assert counts(registry) == (0, 0, 0), "nothing of a refused feed is written"


def test_a_good_feed_imports_once_however_often_it_comes(registry, tmp_path):
    document = vehicles.generate(30, seed=6)
    path = write(tmp_path, document)
    assert feed.import_file(registry, path) == {"vehicles": 30, "campaigns": 3}
    first = counts(registry)
    assert first[0] == 30 and first[1] == sum(len(v["ecus"]) for v in document["vehicles"])
    document["vehicles"][0]["ecus"][0]["software_version"] = "G20-25-03-550.12"
    feed.import_file(registry, write(tmp_path, document), now=datetime.now(timezone.utc))
    assert counts(registry) == first
    with Session(registry) as s:
        ecu = s.scalar(select(Ecu).where(Ecu.vin == document["vehicles"][0]["vin"],
                                         Ecu.address == document["vehicles"][0]["ecus"][0]["address"]))
        assert ecu.software_version == "G20-25-03-550.12"


def test_the_demo_feed_spans_the_series_and_passes_its_own_checks():
    document = vehicles.generate(2000, seed=1)
    loaded = feed.check(document)
    assert len({v["series"] for v in loaded["vehicles"]}) >= 10
    assert len({v["vin"] for v in loaded["vehicles"]}) == 2000


def test_the_demo_history_is_a_yearly_service_with_a_rising_odometer():
    today = date(2026, 11, 24)
    cars = vehicles.generate(50, seed=2)["vehicles"]
    records = vehicles.history(cars, today)
    by_vin = {}
    for r in records:
        by_vin.setdefault(r["vin"], []).append(r)
    assert len(by_vin) >= 45  # all but cars younger than a year
    for rows in by_vin.values():
        rows.sort(key=lambda r: r["performed_on"])
        assert all(a["odometer_km"] < b["odometer_km"] for a, b in zip(rows, rows[1:]))
        assert all(r["performed_on"] < today for r in rows)
        assert all(r["items"][0]["code"] == "ENGINE_OIL" for r in rows)
