"""The parts catalogue in process, on a real database and object store: the demo package imported as `make run`
imports it, every bad package refused whole with each problem named, a reader never seeing half a catalogue, and
what a workshop reads for the demo car (groups, the ignition illustration, a part by number, search, a quote)."""
import json
import shutil
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from deploy import parts as demo_parts
from deploy import vehicles
from services.parts import dependencies, package, use_cases
from services.parts.contracts import FACTS
from services.parts.models import Catalogue, OutboxMessage, ProcessedEvent, Row
from services.parts.settings import PartsSettings
from services.shared import config
from services.shared.database import Store, make_engine
from services.shared.errors import InvalidInput, NotFound, PaymentRequired
from services.shared.importer import Refused
from services.shared.migrate import upgrade

pytestmark = pytest.mark.both_databases  # SQLite has one connection: a read inside a read would wait forever

DEMO_CAR = vehicles.generate(5000)["vehicles"][0]  # make run's demo car: F44, B38A15, built 03/2021, option S6AC
NOW = datetime.now(timezone.utc)
WORKSHOP = {"operator_id": "op-parts", "user_id": "u-1"}
OLD_COIL, NEW_COIL = demo_parts.DEMO_COIL


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("parts") / "demo-parts"
    demo_parts.write(folder)
    return folder


@pytest.fixture
def engine(database_urls):
    url = database_urls["parts"]
    upgrade("parts", url)
    made = make_engine(url)
    yield made
    made.dispose()


def copy(demo, tmp_path):
    target = tmp_path / "package"
    shutil.copytree(demo, target)
    return target


def rewrite(folder, name, change):
    """Change one file's records (a JSON line each) with `change(records)`."""
    path = folder / name
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    change(records)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))


def problems(folder):
    with pytest.raises(Refused) as refused:
        package.import_package(folder, None, None)
    return [str(p) for p in refused.value.problems]


# ---- importing --------------------------------------------------------------------------------------------------

def test_the_demo_package_imports_once_and_again_changes_nothing(demo, engine, store):
    catalogue_id, said = package.import_package(demo, engine, store)
    assert "parts" in said and "rows imported" in said
    with sessionmaker(engine)() as s:
        active = s.scalars(select(Catalogue).where(Catalogue.active.is_(True))).all()
        assert [c.id for c in active] == [catalogue_id]
        assert active[0].parts > 1000 and active[0].rows == s.scalar(select(func.count()).select_from(Row))
        told = s.scalars(select(OutboxMessage).where(OutboxMessage.event_type == "CatalogueImported")).all()
    assert len(told) == 1 and json.loads(told[0].body)["data"]["catalogue_id"] == catalogue_id
    assert package.import_package(demo, engine, store) == (catalogue_id, "unchanged")


def test_a_supersession_cycle_and_a_hotspot_without_a_row_are_refused_with_where(demo, tmp_path):
    folder = copy(demo, tmp_path)
    supersessions = [json.loads(line) for line in (folder / "supersessions.jsonl").read_text().splitlines()]
    first = supersessions[0]
    rewrite(folder, "supersessions.jsonl", lambda r: r.append(
        {"old": first["new"], "new": first["old"], "interchangeability": "both_ways"}))

    def lonely_hotspot(records):
        records[0]["hotspots"].append({"callout": 99, "x": 10, "y": 10})
    rewrite(folder, "illustrations.jsonl", lonely_hotspot)
    found = problems(folder)
    assert any(p.startswith("supersessions.jsonl: -: leads a number back to itself: ") and first["old"] in p
               for p in found), found
    assert any(p.startswith("illustrations.jsonl:1 (") and "hotspots: callout 99 has a hotspot and no row" in p
               for p in found), found


@pytest.mark.parametrize("svg, rule", [
    ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><script>alert(1)</script></svg>', "holds <script>"),
    ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" onload="alert(1)"/>', "event handler (onload)"),
    ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink" viewBox="0 0 10 10">'
     '<image x:href="https://tracker.example/p.png"/></svg>', "links outside the drawing"),
    ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><style>@import url(https://x.example/a.css);'
     '</style></svg>', "fetches from outside"),
    ('<!DOCTYPE svg [<!ENTITY x "boom">]><svg xmlns="http://www.w3.org/2000/svg">&x;</svg>', "without a DTD"),
])
def test_a_drawing_that_could_run_code_or_fetch_is_refused(demo, tmp_path, svg, rule):
    folder = copy(demo, tmp_path)
    first = json.loads((folder / "illustrations.jsonl").read_text().splitlines()[0])
    (folder / first["image"]).write_text(svg)
    found = problems(folder)
    assert any(p.startswith(f"{first['image']}: -: ") and rule in p for p in found), found


def test_every_problem_is_listed_and_nothing_is_imported(demo, tmp_path, engine, store):
    folder = copy(demo, tmp_path)
    rewrite(folder, "parts.jsonl", lambda r: r[0].update(number="12 13"))

    def broken_rows(records):
        records[1]["rows"][0]["number"] = "99999999999"
        records[2]["rows"][0]["validity"] = {"produced_from": "2024-01-01", "produced_until": "2020-01-01"}
        records[3]["series"] = "X99"
    rewrite(folder, "illustrations.jsonl", broken_rows)
    with pytest.raises(Refused) as refused:
        package.import_package(folder, engine, store)
    found = [str(p) for p in refused.value.problems]
    assert any(p.startswith("parts.jsonl:1 (12 13): number: a part number: 11 digits") for p in found), found
    assert any(p.startswith("illustrations.jsonl:2 (") and "rows.0.number: 99999999999 is not a part" in p
               for p in found), found
    assert any(p.startswith("illustrations.jsonl:3 (") and "produced_until: must not be before produced_from" in p
               for p in found), found
    assert any(p.startswith("illustrations.jsonl:4 (") and "series: X99 is not a series of the manifest" in p
               for p in found), found
    with sessionmaker(engine)() as s:
        assert s.scalar(select(func.count()).select_from(Catalogue)) == 0, "a refused package changes nothing"


def test_readers_see_the_old_catalogue_or_the_new_never_half(demo, tmp_path, engine, store):
    """An import stores the new version beside the active one and switches in one transaction; the version a
    reader started with stays whole while the next is written."""
    first_id, _ = package.import_package(demo, engine, store)
    Session = sessionmaker(engine)
    with Session() as s:
        before = s.scalar(select(func.count()).select_from(Row).where(Row.catalogue_id == first_id))
    folder = copy(demo, tmp_path)
    manifest = json.loads((folder / "manifest.json").read_text())
    (folder / "manifest.json").write_text(json.dumps(manifest | {"version": "2027.01"}))
    seen = []
    original = package._insert

    def watched(Session_, chunk):  # a reader between every chunk of the new version
        with Session() as s:
            active = s.scalar(select(Catalogue).where(Catalogue.active.is_(True)))
            seen.append((active.id, s.scalar(select(func.count()).select_from(Row)
                                             .where(Row.catalogue_id == active.id))))
        return original(Session_, chunk)
    package._insert = watched
    try:
        second_id, _ = package.import_package(folder, engine, store)
    finally:
        package._insert = original
    assert seen and all(pair == (first_id, before) for pair in seen), "while importing, the old version whole"
    with Session() as s:
        active = s.scalar(select(Catalogue).where(Catalogue.active.is_(True)))
        assert active.id == second_id and active.rows == before
        assert s.scalar(select(func.count()).select_from(Row).where(Row.catalogue_id == first_id)) == before, \
            "the version before stays for readers in flight"


# ---- reading for the demo car -----------------------------------------------------------------------------------

class Reader:
    """The use cases as the service calls them, on this database, with the demo car in the registry."""

    def __init__(self, engine, store, tmp_path, cars=(DEMO_CAR,)):
        Session = sessionmaker(engine, expire_on_commit=False)
        self.store = Store(Session, OutboxMessage, ProcessedEvent, on_commit=lambda emitted: None, facts=FACTS)
        settings = config.build(PartsSettings, {"AOS_PARTS_INDEX_DIR": str(tmp_path / "parts-index")})
        with Session() as s:
            active = s.scalar(select(Catalogue).where(Catalogue.active.is_(True)))
        self.loaded = dependencies.load(settings, Session, active)
        self.cars = {c["vin"]: c for c in cars}
        self.blobs = store

    def ctx(self):
        return use_cases.Context(self.store, self.loaded, NOW, self.cars.get, lambda actor: "DE",
                                 lambda: [{"code": "parts-1d"}], self.blobs)

    def buy(self, scopes=("parts",), vin=None):
        with self.store.transaction() as uow:
            use_cases.ACCESS.purchased(uow, {"entitlement_id": str(uuid.uuid4()), "scopes": list(scopes), "vin": vin,
                                             "valid_from": NOW - timedelta(minutes=1),
                                             "valid_until": NOW + timedelta(hours=1)} | WORKSHOP)


@pytest.fixture
def reader(demo, engine, store, tmp_path):
    package.import_package(demo, engine, store)
    return Reader(engine, store, tmp_path)


def coil_illustration(reader, **query):
    return use_cases.illustration(reader.ctx(), WORKSHOP, "F44-12_13-01",
                                  {"vin": DEMO_CAR["vin"], "language": "en", "explain": False} | query)


def test_without_access_the_structure_shows_and_no_number_or_price(reader):
    groups = use_cases.groups(reader.ctx(), WORKSHOP, {"vin": DEMO_CAR["vin"], "series": None, "language": "en"})
    assert groups["series"] == "F44" and not groups["access"] and not groups["narrowed"]
    assert "parts access" in groups["message"]
    assert {g["id"] for g in groups["groups"]} >= {"11", "12", "34", "63"}
    shown = coil_illustration(reader)
    assert shown["rows"] and all(r["number"] is None and r["price"] is None for r in shown["rows"])
    assert shown["offer"]["tariffs"] == [{"code": "parts-1d"}]
    with pytest.raises(PaymentRequired):
        use_cases.part(reader.ctx(), WORKSHOP, OLD_COIL, {"vin": None, "language": "en"})


def test_the_ignition_illustration_for_the_demo_car_shows_the_current_coil_with_the_one_it_superseded(reader):
    reader.buy()
    shown = coil_illustration(reader)
    assert shown["narrowed"] and shown["image_url"].startswith("http")
    coil = next(r for r in shown["rows"] if r["callout"] == 1)
    assert coil["name"] == "Ignition coil" and coil["quantity"] == 3  # the B38's three cylinders; not the B48's row
    assert coil["number"] == "12 13 8 616 153" and coil["current"] == NEW_COIL
    assert coil["chain"] == [{"old": "12 13 8 616 153", "new": "12 13 8 643 360", "interchangeability": "both_ways",
                              "words": "interchangeable both ways"}]
    assert coil["price"]["country"] == "DE" and coil["price"]["vat_rate"] == "19"
    assert {h["callout"] for h in shown["hotspots"]} == {r["callout"] for r in shown["rows"]}
    # the option the demo car's order has (S6AC) fits; the row for cars without it is left out
    capacitor = [r for r in shown["rows"] if r["callout"] == 4]
    assert len(capacitor) == 1 and capacitor[0]["note"] == "for cars with option 6AC"


def test_explain_lists_what_was_left_out_and_why(reader):
    reader.buy()
    shown = coil_illustration(reader, explain=True)
    left_out = {(r["callout"], r["left_out_because"]) for r in shown["rows"] if not r["fits"]}
    assert (1, "only for engines B48A20; this car has a B38A15") in left_out
    assert (3, "for cars built from 04/2023; this car was built 03/2021") in left_out
    assert (4, "not for cars with option 6AC, which this car has") in left_out
    german = coil_illustration(reader, explain=True, language="de")
    assert next(r for r in german["rows"] if r["callout"] == 1)["name"] == "Zündspule"


def test_a_car_the_registry_does_not_know_gets_its_series_whole_catalogue_said_so(reader):
    reader.buy()
    unknown = DEMO_CAR["vin"][:11] + "999999"
    groups = use_cases.groups(reader.ctx(), WORKSHOP, {"vin": unknown, "series": None, "language": "en"})
    assert groups["series"] == "F44" and groups["whole_series"] and not groups["narrowed"]
    assert "no build data" in groups["message"]
    shown = coil_illustration(reader, vin=unknown)
    assert {r["callout"] for r in shown["rows"] if r["name"] == "Ignition coil"} == {1}
    assert len([r for r in shown["rows"] if r["callout"] == 1]) == 2, "every engine's coil row"
    with pytest.raises(InvalidInput) as wrong:
        use_cases.groups(reader.ctx(), WORKSHOP, {"vin": "WBAXX99900X123456", "series": None, "language": "en"})
    assert wrong.value.details["field"] == "vin"


def test_a_part_by_number_typed_any_way_and_an_old_number_leads_to_the_current(reader):
    reader.buy()
    query = {"vin": DEMO_CAR["vin"], "language": "en"}
    for typed in ("12 13 8 616 153", "12138616153", "12-13-8-616-153"):
        found = use_cases.part(reader.ctx(), WORKSHOP, typed, query)
        assert found["number"] == NEW_COIL and found["asked"] == "12 13 8 616 153" and len(found["chain"]) == 1
        assert found["fits"] and found["used_in"][0]["illustration"] == "F44-12_13-01"
    with pytest.raises(NotFound) as unknown:
        use_cases.part(reader.ctx(), WORKSHOP, "12 13 8 616 135", query)
    assert unknown.value.code == "PART_NOT_FOUND" and "12 13 8 616 153" in unknown.value.details["near"]
    with pytest.raises(InvalidInput) as not_a_number:
        use_cases.part(reader.ctx(), WORKSHOP, "coil", query)
    assert not_a_number.value.details["field"] == "number"


def test_search_by_name_in_either_language_forgives_a_typo_and_keeps_to_the_car(reader):
    reader.buy()
    for words in ("ignition coil", "ignitoin coil", "Zündspule"):
        found = use_cases.find(reader.ctx(), WORKSHOP, {"q": words, "vin": DEMO_CAR["vin"], "language": "en",
                                                        "page": 1, "size": 20})
        numbers = {h["number"] for h in found["hits"]}
        assert OLD_COIL in numbers, (words, found["hits"][:3])
        assert all(h["illustration"].startswith("F44-") for h in found["hits"]), "the car's series only"
    g20 = use_cases.find(reader.ctx(), WORKSHOP, {"q": "ignition coil", "vin": None, "language": "en", "page": 1,
                                                  "size": 50})
    assert g20["total"] > found["total"], "without a car, every series' coils"


def test_a_quote_prices_the_current_part_with_the_workshops_vat(reader):
    reader.buy()
    quoted = use_cases.quote(reader.ctx(), WORKSHOP, {"vin": DEMO_CAR["vin"], "lines": [
        {"number": "12 13 8 616 153", "quantity": 4}]})
    line = quoted["lines"][0]
    assert line["number"] == NEW_COIL and line["asked"] == "12 13 8 616 153" and line["quantity"] == 4
    assert line["net_cents"] == 4 * line["unit_net_cents"] and line["vat_rate"] == "19"
    assert quoted["gross_cents"] == quoted["net_cents"] + quoted["vat_cents"]
    assert quoted["vat_cents"] == round(quoted["net_cents"] * 0.19)


# ---- the search port: one contract, both adapters ----------------------------------------------------------------

@pytest.fixture(params=["tantivy", "elasticsearch"])
def parts_index(request, tmp_path, demo, engine, store):
    from services.parts import search
    catalogue_id, _ = package.import_package(demo, engine, store)
    if request.param == "tantivy":
        index = search.TantivyParts(tmp_path / "index")
    else:
        clone = request.getfixturevalue("osmem_clone")
        index = search.ElasticsearchParts(clone.url, f"parts-{uuid.uuid4().hex[:8]}", plain_json=True)
    dependencies.index_catalogue(index, sessionmaker(engine), catalogue_id)
    yield index
    index.close()


def test_both_adapters_find_and_narrow_alike(parts_index):
    from services.parts import domain
    car = domain.Car.of(DEMO_CAR)
    every = parts_index.search(["coil"], limit=200)
    assert every.total > 10
    narrowed = parts_index.search(["ignition", "coil"], car=car, options=("S6AC", "S5AC"), limit=50)
    assert {h.number for h in narrowed.hits} == {OLD_COIL}, [h.number for h in narrowed.hits]
    typo = parts_index.search(["zundspule"], car=car, limit=50)
    assert OLD_COIL in {h.number for h in typo.hits}
    series = parts_index.search(["ignition", "coil"], series="F44", limit=50)
    assert {h.illustration for h in series.hits} == {"F44-12_13-01"} and series.total == 2
    lacking = parts_index.search(["headlight"], car=car, options=("S5AC", "S6AC"), limit=50)
    assert lacking.hits and all("5AC" not in h.name_en for h in lacking.hits), "the option the car lacks"
