"""A partner's mirror of the technical information through an API key: the whole library of a series as a gzip
NDJSON export, resumed after a break, not sent again while nothing changed (ETag), then kept in step by the change
feed after documents are updated, added and withdrawn, until the mirror equals the library; cursors the library
never gave, bad parameters, a key without the scope and a workshop without access refused in words."""
import gzip
import json

import orjson
import pytest
import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from deploy import corpus
from services.air import content, domain
from services.air.models import Document
from services.shared import blobs
from services.shared.database import make_engine
from tests.e2e.conftest import Workshop, buy, error, fill_registry, import_parts, top_up
from tests.helpers import eventually

DOCUMENTS = 600
SERIES = "G20"


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    folder = tmp_path_factory.mktemp("air") / "demo-library"
    corpus.write(folder, DOCUMENTS)
    return folder


@pytest.fixture
def library(system, package):
    engine = make_engine(system["DATABASE_URLS"]["air"])
    store = blobs.from_config(system)
    store.ensure_bucket()
    assert content.import_package(package, engine, store).created == DOCUMENTS
    yield engine, store
    engine.dispose()


def source(engine, series=SERIES):
    """What a mirror of the series must hold: the library's current documents that apply to it, as lines."""
    with Session(engine) as session:
        rows = session.scalars(select(Document).where(Document.withdrawn_at.is_(None))).all()
        return {r.id: _comparable(domain.exported(r)) for r in rows if domain.for_series(r, series)}


def _comparable(line):
    return {k: v for k, v in orjson.loads(orjson.dumps(line)).items() if k != "cursor"}


def stream(api, key, path, **params):
    answer = requests.get(api.base + path, params=params, stream=True, timeout=60,
                          headers={"Authorization": f"Bearer {key}", "Accept-Encoding": "gzip"})
    return answer


def lines_of(answer):
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].startswith("application/x-ndjson")
    assert answer.headers["Content-Encoding"] == "gzip"
    raw = answer.raw.read()  # as sent: gzip
    return [json.loads(line) for line in gzip.decompress(raw).splitlines()]


def apply(mirror, lines):
    for line in lines[:-1]:
        if line["deleted"]:
            mirror.pop(line["id"], None)
        else:
            mirror[line["id"]] = {k: v for k, v in line.items() if k != "cursor"}
    return lines[-1]["cursor"]


def second_package(first, folder):
    """The manufacturer's next delivery: three documents of the series in a new version, one new, two withdrawn."""
    docs = [json.loads(line) for line in (first / "documents.jsonl").read_text().splitlines()]
    mine = [d for d in docs if SERIES in d["applicability"].get("series", []) and not d["binaries"]]
    changed = [dict(d, version=d["version"] + 1, title=d["title"] + " (revised)") for d in mine[:3]]
    added = dict(mine[3], id="TSB-2026-MIRROR", title="Bulletin added for the mirror test")
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps({
        "format": "aos-content/1", "name": "demo-library", "version": "2026.12", "publisher": "AOS demo manufacturer",
        "created": "2026-12-05", "withdrawn": [mine[4]["id"], mine[5]["id"]]}))
    (folder / "documents.jsonl").write_text("".join(json.dumps(d) + "\n" for d in changed + [added]))
    return changed, added, (mine[4]["id"], mine[5]["id"])


def test_a_partner_mirrors_a_series_and_the_feed_keeps_the_mirror_equal_to_the_library(api, system, library,
                                                                                        package, tmp_path):
    engine, store = library
    workshop = Workshop(api)
    eventually(lambda: top_up(api, workshop, 5000).status_code == 201, what="billing to know the workshop")
    key = api("POST", "/api/v1/keys", workshop.token, json={"name": "dealer DMS mirror", "scopes": ["air"]}).json()
    refused = stream(api, key["key"], "/api/v1/exports/air", series=SERIES)
    assert refused.status_code == 402 and error(refused)["code"] == "ACCESS_REQUIRED"  # the key reads what is paid
    assert buy(api, workshop, "air-1d").status_code == 201
    eventually(lambda: stream(api, key["key"], "/api/v1/exports/air", series=SERIES).status_code == 200,
               what="AIR to hear of the purchase")

    exported = stream(api, key["key"], "/api/v1/exports/air", series=SERIES)
    tag = exported.headers["ETag"]
    lines = lines_of(exported)
    assert lines[-1]["end"] and not any(line["deleted"] for line in lines[:-1])
    mirror = {}
    cursor = apply(mirror, lines)
    assert mirror == source(engine) and len(mirror) > 50
    whole = lines_of(stream(api, key["key"], "/api/v1/exports/air"))  # every series: more than a page of 500
    assert len(whole) == DOCUMENTS + 1 and {line["id"] for line in whole[:-1]} == set(source(engine, None))

    # a break after the 50th line: resumed from its cursor, the rest comes, nothing twice
    rest = lines_of(stream(api, key["key"], "/api/v1/exports/air", series=SERIES, after=lines[49]["cursor"]))
    assert [line["id"] for line in rest[:-1]] == [line["id"] for line in lines[50:-1]]
    # nothing new: not sent again
    unchanged = requests.get(api.base + "/api/v1/exports/air", params={"series": SERIES}, timeout=30,
                             headers={"Authorization": f"Bearer {key['key']}", "If-None-Match": tag})
    assert unchanged.status_code == 304 and unchanged.content == b""

    changed, added, withdrawn = second_package(package, tmp_path / "next")
    report = content.import_package(tmp_path / "next", engine, store)
    assert (report.updated, report.created, report.withdrawn) == (3, 1, 2)
    assert requests.get(api.base + "/api/v1/exports/air", params={"series": SERIES}, timeout=30, headers={
        "Authorization": f"Bearer {key['key']}", "If-None-Match": tag}).status_code == 200  # the library moved

    feed = lines_of(stream(api, key["key"], "/api/v1/feeds/air", series=SERIES, after=cursor))
    assert sorted(line["id"] for line in feed[:-1] if line["deleted"]) == sorted(withdrawn)
    assert {line["id"] for line in feed[:-1] if not line["deleted"]} == {d["id"] for d in changed} | {added["id"]}
    next_cursor = apply(mirror, feed)
    assert mirror == source(engine) and mirror[changed[0]["id"]]["title"].endswith("(revised)")
    assert withdrawn[0] not in mirror
    again = lines_of(stream(api, key["key"], "/api/v1/feeds/air", series=SERIES, after=next_cursor))
    assert again == [{"cursor": next_cursor, "end": True}]  # nothing since

    # a withdrawn document is gone from reading and, once indexed, from search
    gone = api("GET", f"/api/v1/air/documents/{withdrawn[0]}", key["key"])
    assert gone.status_code == 404 and error(gone)["code"] == "DOCUMENT_WITHDRAWN"
    eventually(lambda: withdrawn[0] not in {h["id"] for h in api(
        "GET", "/api/v1/air/search", workshop.token, params={"q": withdrawn[0], "size": 50}).json()["hits"]},
        what="the index to drop the withdrawn document")


def test_a_cursor_never_given_a_bad_parameter_and_a_key_without_the_scope_are_refused_in_words(api, system, library):
    workshop = Workshop(api)
    eventually(lambda: top_up(api, workshop, 5000).status_code == 201, what="billing to know the workshop")
    assert buy(api, workshop, "air-1d").status_code == 201
    key = api("POST", "/api/v1/keys", workshop.token, json={"name": "mirror", "scopes": ["air"]}).json()["key"]
    parts_only = api("POST", "/api/v1/keys", workshop.token, json={"name": "parts", "scopes": ["parts"]}).json()["key"]
    eventually(lambda: stream(api, key, "/api/v1/feeds/air", after=0).status_code == 200,
               what="AIR to hear of the purchase")
    unknown = stream(api, key, "/api/v1/feeds/air", after=10 ** 9)
    assert unknown.status_code == 410 and error(unknown)["code"] == "CURSOR_UNKNOWN"
    assert "full export" in error(unknown)["message"] and error(unknown)["details"]["latest"] == DOCUMENTS
    for params, field in (({"after": "-1"}, "after"), ({"after": "x"}, "after"), ({"series": "g20"}, "series"),
                          ({"limit": "5"}, "limit"), ({"tombstones": "true"}, "tombstones")):
        bad = stream(api, key, "/api/v1/feeds/air", **params)
        assert bad.status_code == 422 and field in str(error(bad)["details"]), (params, bad.text)
    scope = stream(api, parts_only, "/api/v1/exports/air")
    assert scope.status_code == 403 and error(scope)["details"]["scope"] == "air"
    user = stream(api, workshop.token, "/api/v1/exports/air", series=SERIES)  # a signed-in user may take it too
    assert user.status_code == 200 and lines_of(user)[-1]["end"]


def registry(system):
    """The registry as a mirror of SERIES must hold it: build data and ECUs per VIN."""
    from services.vehicle_data.models import Ecu, Vehicle
    engine = make_engine(system["DATABASE_URLS"]["vehicle_data"])
    try:
        with Session(engine) as session:
            cars = {v.vin: v for v in session.scalars(select(Vehicle).where(Vehicle.series == SERIES))}
            ecus = {}
            for e in session.scalars(select(Ecu).where(Ecu.vin.in_(list(cars))).order_by(Ecu.address)):
                ecus.setdefault(e.vin, []).append(e.hardware_part_number)
        return {vin: (v.paint, v.options, ecus.get(vin, [])) for vin, v in cars.items()}
    finally:
        engine.dispose()


def test_a_partner_mirrors_the_registry_of_a_series_and_the_feed_brings_cars_imported_again(api, system):
    from deploy import vehicles
    feed = vehicles.generate(700, seed=9)
    fill_registry(system, feed)
    workshop = Workshop(api)
    eventually(lambda: top_up(api, workshop, 5000).status_code == 201, what="billing to know the workshop")
    key = api("POST", "/api/v1/keys", workshop.token, json={"name": "fleet mirror", "scopes": ["vehicles"]}).json()
    refused = stream(api, key["key"], "/api/v1/exports/vehicles", series=SERIES)
    assert refused.status_code == 402 and error(refused)["code"] == "VEHICLE_DATA_ACCESS_REQUIRED"
    assert buy(api, workshop, "air-1d").status_code == 201
    eventually(lambda: stream(api, key["key"], "/api/v1/exports/vehicles", series=SERIES).status_code == 200,
               what="vehicle data to hear of the purchase")
    lines = lines_of(stream(api, key["key"], "/api/v1/exports/vehicles", series=SERIES))
    mirror = {line["vin"]: (line["paint"], line["options"], [e["hardware_part_number"] for e in line["ecus"]])
              for line in lines[:-1]}
    assert mirror == registry(system) and len(mirror) > 10 and lines[-1]["end"]

    again = [dict(car, paint="Frozen Black metallic") for car in feed["vehicles"] if car["series"] == SERIES][:5]
    fill_registry(system, dict(feed, vehicles=again, campaigns=[]))  # the feed sends five cars again
    changes = lines_of(stream(api, key["key"], "/api/v1/feeds/vehicles", series=SERIES, after=lines[-1]["cursor"]))
    assert sorted(line["vin"] for line in changes[:-1]) == sorted(car["vin"] for car in again)
    for line in changes[:-1]:
        mirror[line["vin"]] = (line["paint"], line["options"], [e["hardware_part_number"] for e in line["ecus"]])
    assert mirror == registry(system)
    taken = eventually(lambda: api("GET", "/api/v1/audit/trail", workshop.token,
                                   params={"kind": "VehiclesExported"}).json()["entries"],
                       what="the trail to record the pages taken")
    assert {e["kind"] for e in taken} == {"VehiclesExported"} and "cars exported" in taken[0]["summary"]


def parts_version(folder, version, parts, drop=(), extra=()):
    """The demo parts package at `folder` delivered again as `version`: `parts` (number -> changed fields) changed,
    the unreferenced numbers `drop` left out, the records `extra` added."""
    records = [json.loads(line) for line in (folder / "parts.jsonl").read_text().splitlines()]
    kept = [dict(r, **parts.get(r["number"], {})) for r in records if r["number"] not in drop] + list(extra)
    (folder / "parts.jsonl").write_text("".join(json.dumps(r) + "\n" for r in kept))
    manifest = json.loads((folder / "manifest.json").read_text())
    (folder / "manifest.json").write_text(json.dumps(dict(manifest, version=version)))
    return {r["number"]: r for r in kept}


def unreferenced(number):
    return {"number": number, "name": {"en": "Touch-up pen", "de": "Lackstift"}, "weight_g": 20,
            "prices": {"DE": 1290}, "kit": None}


def test_a_partner_mirrors_the_parts_catalogue_and_the_feed_follows_the_next_import(api, system, parts_package,
                                                                                      tmp_path):
    import shutil
    first = tmp_path / "v1"
    shutil.copytree(parts_package, first)
    catalogue = parts_version(first, "2026.12-v1", {}, extra=[unreferenced("51910000001")])
    import_parts(system, first)
    workshop = Workshop(api)
    eventually(lambda: top_up(api, workshop, 20000).status_code == 201, what="billing to know the workshop")
    key = api("POST", "/api/v1/keys", workshop.token, json={"name": "shop system", "scopes": ["parts"]}).json()["key"]
    refused = stream(api, key, "/api/v1/exports/parts")
    assert refused.status_code == 402 and error(refused)["code"] == "PARTS_ACCESS_REQUIRED"
    assert buy(api, workshop, "parts-1d").status_code == 201
    eventually(lambda: stream(api, key, "/api/v1/exports/parts").status_code == 200,
               what="parts to hear of the purchase")

    lines = lines_of(stream(api, key, "/api/v1/exports/parts"))
    mirror = {}
    cursor = apply(mirror, lines)
    assert set(mirror) == set(catalogue) and len(mirror) > 1000  # more than a page
    sample = catalogue["11128785873"]
    line = mirror["11128785873"]
    assert (line["name_en"], line["prices"], line["weight_g"]) == (sample["name"]["en"], sample["prices"],
                                                                    sample["weight_g"])
    assert line["used_in"] and {"illustration", "callout", "quantity", "validity", "series"} <= set(line["used_in"][0])
    g20 = lines_of(stream(api, key, "/api/v1/exports/parts", series="F40"))
    assert 0 < len(g20) - 1 < len(lines) - 1
    assert all(any(u["series"] == "F40" for u in line["used_in"]) for line in g20[:-1])

    # the manufacturer's next version: a part renamed, one repriced, one dropped, one new
    second = tmp_path / "v2"
    shutil.copytree(first, second)
    renamed, repriced = "11128785873", "11128738167"
    catalogue = parts_version(second, "2026.12-v2", {
        renamed: {"name": {"en": "Cylinder head cover, revised", "de": "Zylinderkopfhaube, geändert"}},
        repriced: {"prices": dict(catalogue[repriced]["prices"], DE=31000)}},
        drop=("51910000001",), extra=[unreferenced("51910000002")])
    import_parts(system, second)
    feed = lines_of(stream(api, key, "/api/v1/feeds/parts", after=cursor))
    assert {line["id"]: line["deleted"] for line in feed[:-1]} == {
        renamed: False, repriced: False, "51910000001": True, "51910000002": False}
    apply(mirror, feed)
    fresh = {}
    apply(fresh, lines_of(stream(api, key, "/api/v1/exports/parts")))
    assert mirror == fresh and set(mirror) == set(catalogue)
    assert mirror[renamed]["name_en"] == "Cylinder head cover, revised" and mirror[repriced]["prices"]["DE"] == 31000
    assert lines_of(stream(api, key, "/api/v1/feeds/parts", after=feed[-1]["cursor"]))[:-1] == []
    unknown = stream(api, key, "/api/v1/feeds/parts", after=10 ** 9)
    assert unknown.status_code == 410 and "/api/v1/exports/parts" in error(unknown)["message"]


def test_a_tool_maker_mirrors_the_diagnostic_descriptions_and_takes_their_files(api, system, tmp_path):
    import hashlib
    from deploy import odx
    from services.programming import descriptions
    files = odx.write_all(tmp_path / "odx")
    engine, store = make_engine(system["DATABASE_URLS"]["programming"]), blobs.from_config(system)
    store.ensure_bucket()
    try:
        assert descriptions.import_files(files, engine, store) == {"created": 8, "updated": 0, "unchanged": 0}
        workshop = Workshop(api)
        eventually(lambda: top_up(api, workshop, 5000).status_code == 201, what="billing to know the workshop")
        key = api("POST", "/api/v1/keys", workshop.token, json={"name": "tester", "scopes": ["diagnostics"]}).json()
        refused = stream(api, key["key"], "/api/v1/exports/diagnostics")
        assert refused.status_code == 402 and error(refused)["details"]["tariffs"]  # what would open it
        assert buy(api, workshop, "air-1h").status_code == 201
        eventually(lambda: stream(api, key["key"], "/api/v1/exports/diagnostics").status_code == 200,
                   what="programming to hear of the purchase")
        lines = lines_of(stream(api, key["key"], "/api/v1/exports/diagnostics"))
        mirror = {}
        cursor = apply(mirror, lines)
        assert set(mirror) == set(odx.TYPES)
        engine_control = mirror["DME"]
        assert engine_control["long_name"] == "Engine control"
        misfire = next(f for f in engine_control["fault_codes"] if f["code"] == "P0301")
        assert misfire["text"] == "Cylinder 1 misfire detected" and "engine_speed" in misfire["checks"]
        speed = next(d for d in engine_control["data_identifiers"] if d["name"] == "engine_speed")
        assert (speed["did"], speed["minimum"], speed["maximum"]) == ("0x4001", 600, 900)
        cluster = mirror["KOMBI"]  # its coding layout and what a replacement takes over, for a tool maker's coder
        display = next(c for c in cluster["coding"] if c["name"] == "display")
        assert display["did"] == "0x3101" and display["session"] == "extended"
        assert display["parameters"][0]["values"] == ["km/h", "mph"] and cluster["carried_over"] == ["odometer"]

        # the file itself: a redirect to a signed link, the bytes the line's SHA-256 names
        taken = requests.get(api.base + engine_control["file"], allow_redirects=False, timeout=30,
                             headers={"Authorization": f"Bearer {key['key']}"})
        assert taken.status_code == 303, taken.text
        data = requests.get(taken.headers["Location"], timeout=30).content
        assert hashlib.sha256(data).hexdigest() == engine_control["sha256"] == hashlib.sha256(
            (tmp_path / "odx" / "DME.pdx").read_bytes()).hexdigest()
        missing = api("GET", "/api/v1/diagnostics/descriptions/NOPE/file", key["key"])
        assert missing.status_code == 404 and error(missing)["code"] == "DESCRIPTION_NOT_FOUND"

        # the manufacturer's next delivery: one text corrected, the rest unchanged; one type withdrawn
        spec = dict(odx.TYPES["EGS"], dtcs=[("P0700", "Transmission control system malfunction (MIL request)"),
                                            ("P0715", "Input/turbine speed sensor A circuit")])
        odx.write_pdx(tmp_path / "odx" / "EGS.pdx", "EGS", odx.document("EGS", spec))
        assert descriptions.import_files(files, engine, store) == {"created": 0, "updated": 1, "unchanged": 7}
        descriptions.withdraw(engine, "HU")
        feed = lines_of(stream(api, key["key"], "/api/v1/feeds/diagnostics", after=cursor))
        assert {line["id"]: line["deleted"] for line in feed[:-1]} == {"EGS": False, "HU": True}
        apply(mirror, feed)
        fresh = {}
        apply(fresh, lines_of(stream(api, key["key"], "/api/v1/exports/diagnostics")))
        assert mirror == fresh and "HU" not in mirror
        assert mirror["EGS"]["fault_codes"][0]["text"].endswith("(MIL request)")
        assert api("GET", "/api/v1/diagnostics/descriptions/HU/file", key["key"]).status_code == 404
        narrowed = stream(api, key["key"], "/api/v1/exports/diagnostics", series=SERIES)
        assert narrowed.status_code == 422 and error(narrowed)["details"]["field"] == "series"
        other = api("POST", "/api/v1/keys", workshop.token, json={"name": "mirror", "scopes": ["air"]}).json()["key"]
        assert stream(api, other, "/api/v1/exports/diagnostics").status_code == 403
    finally:
        engine.dispose()


def test_a_diagnostic_description_with_a_problem_is_refused_whole(system, tmp_path):
    from deploy import odx
    from services.programming import descriptions
    from services.shared.importer import Refused
    files = odx.write_all(tmp_path / "odx")
    broken = tmp_path / "odx" / "BROKEN.pdx"
    broken.write_bytes(b"not a zip")
    engine, store = make_engine(system["DATABASE_URLS"]["programming"]), blobs.from_config(system)
    try:
        with pytest.raises(Refused) as refused:
            descriptions.import_files(files + [broken], engine, store)
        assert [p.file for p in refused.value.problems] == ["BROKEN.pdx"]
        assert "not a PDX file" in refused.value.problems[0].rule
        with Session(engine) as session:
            from services.programming.models import DiagnosticDescription
            assert session.scalars(select(DiagnosticDescription)).all() == []  # nothing imported
    finally:
        engine.dispose()


def test_a_partner_mirrors_the_maintenance_schedules(api, system):
    from services.vehicle_data.domain import MAINTENANCE, rules_for
    workshop = Workshop(api)
    eventually(lambda: top_up(api, workshop, 5000).status_code == 201, what="billing to know the workshop")
    key = api("POST", "/api/v1/keys", workshop.token, json={"name": "planner", "scopes": ["vehicles"]}).json()["key"]
    assert stream(api, key, "/api/v1/exports/maintenance").status_code == 402
    assert buy(api, workshop, "air-1d").status_code == 201
    eventually(lambda: stream(api, key, "/api/v1/exports/maintenance").status_code == 200,
               what="vehicle data to hear of the purchase")
    lines = lines_of(stream(api, key, "/api/v1/exports/maintenance"))
    schedules = {line["id"]: line for line in lines[:-1]}
    assert set(schedules) == {"default"} | set(MAINTENANCE["series"])
    oil = {r["code"]: r for r in schedules["G80"]["rules"]}["ENGINE_OIL"]
    assert (oil["every_km"], oil["every_months"]) == (15000, 12)  # the M engine's own rule over the default
    assert len(schedules["G80"]["rules"]) == len(rules_for("G80"))
    one = lines_of(stream(api, key, "/api/v1/exports/maintenance", series="G80"))
    assert [line["id"] for line in one[:-1]] == ["default", "G80"]
    latest = lines[-1]["cursor"]
    assert lines_of(stream(api, key, "/api/v1/feeds/maintenance", after=latest)) == [{"cursor": latest, "end": True}]
    assert stream(api, key, "/api/v1/feeds/maintenance", after=int(latest) + 1).status_code == 410
