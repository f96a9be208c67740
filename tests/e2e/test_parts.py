"""The parts catalogue through the gateway, as a new workshop meets it: the structure and names without access, what
to buy, then numbers and prices for the car on the lift; a part by number typed any way; search by name in either
language; a parts request to a dealer as the fact dealer systems subscribe to and as their CSV; every bad input
answered in words, naming the field, and changing nothing."""
import csv
import io
import json

import pytest
from kombu import Connection, Exchange, Queue
from nameko.standalone.events import get_event_exchange

from deploy import parts as demo_parts
from deploy import vehicles
from services.catalogue import CATALOGUE
from services.parts.domain import written
from services.shared import events
from tests.e2e.conftest import Workshop, buy, error, fill_registry, import_parts, top_up
from tests.helpers import eventually

FEED = vehicles.generate(20, seed=5)
CAR = FEED["vehicles"][0]  # a U11 with the B38A15: its coils are the demo car's
UNKNOWN = CAR["vin"][:11] + "000001"  # a U11 the registry does not know (positions 4-7 say the model)
OLD_COIL, NEW_COIL = demo_parts.DEMO_COIL
COILS = f"{CAR['series']}-12_13-01"


@pytest.fixture
def counter(system, parts_package, api):
    """The registry, and the demo catalogue imported while the parts service runs; ready once it has indexed it."""
    fill_registry(system, FEED)
    import_parts(system, parts_package)
    workshop = Workshop(api)
    eventually(lambda: catalogue(api, workshop, vin=CAR["vin"]).status_code == 200, timeout=30,
               what="the parts service to index the catalogue")
    return workshop


def catalogue(api, workshop, **params):
    return api("GET", "/api/v1/parts/catalogue", workshop.token, params=params)


def illustration(api, workshop, id=COILS, **params):
    return api("GET", f"/api/v1/parts/illustrations/{id}", workshop.token, params=params)


def with_parts_access(api, workshop):
    eventually(lambda: top_up(api, workshop, 10000).status_code == 201, what="billing to know the workshop")
    assert buy(api, workshop, "parts-1d").status_code == 201
    eventually(lambda: illustration(api, workshop, vin=CAR["vin"]).json()["access"], what="parts to hear of it")


def test_without_access_the_catalogue_shows_its_structure_and_says_what_opens_numbers(api, counter):
    workshop = counter
    groups = catalogue(api, workshop, vin=CAR["vin"]).json()
    assert groups["series"] == CAR["series"] and not groups["access"] and not groups["narrowed"]
    assert {t["code"] for t in groups["offer"]["tariffs"]} >= {"parts-1d", "parts-1m", "vin-1d"}
    ignition = next(s for g in groups["groups"] for s in g["subgroups"] if s["id"] == "12_13")
    assert [i["id"] for i in ignition["illustrations"]] == [COILS]
    shown = illustration(api, workshop, vin=CAR["vin"]).json()
    assert shown["rows"] and all(r["number"] is None and r["price"] is None for r in shown["rows"])
    assert shown["image_url"].startswith("http") and len(shown["hotspots"]) == 4
    refused = api("GET", f"/api/v1/parts/parts/{OLD_COIL}", workshop.token)
    assert refused.status_code == 402 and error(refused)["code"] == "PARTS_ACCESS_REQUIRED"
    assert "parts-1d" in {t["code"] for t in error(refused)["details"]["tariffs"]}


def test_with_access_the_car_s_coil_shows_its_current_number_and_price_and_the_drawing_is_an_image(api, counter):
    workshop = counter
    with_parts_access(api, workshop)
    shown = illustration(api, workshop, vin=CAR["vin"]).json()
    coil = next(r for r in shown["rows"] if r["callout"] == 1)
    assert (coil["number"], coil["current"], coil["quantity"]) == ("12 13 8 616 153", NEW_COIL, 3)
    assert coil["chain"][0]["old"] == "12 13 8 616 153" and coil["chain"][0]["new"] == "12 13 8 643 360"
    assert coil["price"]["net_cents"] > 0 and coil["price"]["gross_cents"] > coil["price"]["net_cents"]
    drawing = api.http.get(shown["image_url"], timeout=30)
    assert drawing.status_code == 200 and drawing.headers["Content-Type"] == "image/svg+xml"
    assert b"<script" not in drawing.content
    # the same number typed three ways; an old one leads to the current, the chain shown
    for typed in ("12 13 8 616 153", "12138616153", "12.13.8.616.153"):
        found = api("GET", f"/api/v1/parts/parts/{typed}", workshop.token, params={"vin": CAR["vin"]})
        assert found.status_code == 200, found.text
        assert found.json()["number"] == NEW_COIL and found.json()["fits"]
    # search by name, either language, a typo forgiven, narrowed to the car
    for words in ("ignition coil", "ignitoin coil", "Zündspule"):
        hits = api("GET", "/api/v1/parts/search", workshop.token, params={"q": words, "vin": CAR["vin"]}).json()
        assert OLD_COIL in {h["number"] for h in hits["hits"]}, words
        assert all(h["illustration"].startswith(CAR["series"]) for h in hits["hits"])
    german = illustration(api, workshop, vin=CAR["vin"], language="de").json()
    assert next(r for r in german["rows"] if r["callout"] == 1)["name"] == "Zündspule"


def test_a_car_the_registry_does_not_know_gets_its_series_whole_catalogue_said_so(api, counter):
    workshop = counter
    with_parts_access(api, workshop)
    groups = catalogue(api, workshop, vin=UNKNOWN).json()
    assert groups["whole_series"] and groups["series"] == CAR["series"] and "no build data" in groups["message"]
    rows = illustration(api, workshop, vin=UNKNOWN).json()["rows"]
    assert len([r for r in rows if r["callout"] == 1]) > 1, "every engine's coil: the car's engine is not known"


def test_a_parts_request_is_told_to_dealer_systems_and_read_as_csv(api, system, counter):
    workshop = counter
    with_parts_access(api, workshop)
    config = {"AMQP_URI": system["AMQP_URI"]}
    with Connection(system["AMQP_URI"]) as connection:  # a dealer system's own queue, bound as the AsyncAPI says
        exchange = get_event_exchange("parts", config)
        queue = Queue("dealer-parts-requests", Exchange(exchange.name, type="topic", durable=True),
                      routing_key="PartsRequested", durable=True)
        queue(connection.channel()).declare()
        sent = api("POST", "/api/v1/parts/requests", workshop.token, json={
            "vin": CAR["vin"], "note": "=HYPERLINK(\"x\")", "lines": [{"number": "12 13 8 616 153", "quantity": 4}]})
        assert sent.status_code == 201, sent.text
        request = sent.json()
        assert request["lines"][0]["number"] == NEW_COIL and request["lines"][0]["quantity"] == 4
        message = eventually(lambda: queue(connection.channel()).get(no_ack=True), what="PartsRequested")
        told = events.parse(json.loads(message.body) if isinstance(message.body, (str, bytes)) else message.payload,
                            CATALOGUE["PartsRequested"])
        assert told.data["request_id"] == request["id"] and told.data["net_cents"] == request["net_cents"]
        assert told.data["lines"][0]["number"] == NEW_COIL
    answer = api("GET", f"/api/v1/parts/requests/{request['id']}", workshop.token, headers={"Accept": "text/csv"})
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert rows == [{"line": "1", "part_number": NEW_COIL, "name": "Ignition coil", "quantity": "4",
                     "unit_net": f"{request['lines'][0]['unit_net_cents'] / 100:.2f}",
                     "net": f"{request['net_cents'] / 100:.2f}", "currency": "EUR", "vin": CAR["vin"],
                     "request": request["id"], "job": ""}]
    listed = api("GET", "/api/v1/parts/requests", workshop.token).json()["requests"]
    assert [r["id"] for r in listed] == [request["id"]]
    other = Workshop(api, email="chef@andere-werkstatt.de", vat_id=None)
    assert api("GET", f"/api/v1/parts/requests/{request['id']}", other.token).status_code == 404


BAD_READS = [
    ("/api/v1/parts/catalogue", {"vin": "WBA31EF88PB75315"}, 422, "VALIDATION_FAILED", "vin"),
    ("/api/v1/parts/catalogue", {"vin": "WBAXX99900X123456"}, 422, "VIN_NOT_IN_CATALOGUE", "vin"),
    ("/api/v1/parts/catalogue", {"series": "Z99"}, 422, "SERIES_NOT_IN_CATALOGUE", "series"),
    ("/api/v1/parts/catalogue", {"language": "fr"}, 422, "VALIDATION_FAILED", "language"),
    ("/api/v1/parts/illustrations/NOPE-12_13-01", {}, 404, "ILLUSTRATION_NOT_FOUND", "illustration_id"),
    ("/api/v1/parts/illustrations/G20-12_13-01", {"vin": CAR["vin"]}, 422, "ILLUSTRATION_NOT_FOR_CAR", "vin"),
    ("/api/v1/parts/illustrations/" + COILS, {"explain": "maybe"}, 422, "VALIDATION_FAILED", "explain"),
    ("/api/v1/parts/parts/coil", {}, 422, "PART_NUMBER_FORMAT", "number"),
    ("/api/v1/parts/parts/12 13 8 616 135", {}, 404, "PART_NOT_FOUND", "number"),
    ("/api/v1/parts/search", {"q": "?!"}, 422, "QUERY_HAS_NO_WORDS", "q"),
    ("/api/v1/parts/search", {}, 422, "VALIDATION_FAILED", "q"),
    ("/api/v1/parts/search", {"q": "x" * 201}, 422, "VALIDATION_FAILED", "q"),
    ("/api/v1/parts/search", {"q": "coil", "size": "0"}, 422, "VALIDATION_FAILED", "size"),
]
BAD_REQUESTS = [
    ({"vin": CAR["vin"], "lines": []}, "VALIDATION_FAILED", "lines"),
    ({"vin": CAR["vin"], "lines": [{"number": "12138616153", "quantity": 0}]}, "VALIDATION_FAILED", "lines"),
    ({"vin": CAR["vin"], "lines": [{"number": "99999999999", "quantity": 1}]}, "PART_NOT_FOUND", "lines.0.number"),
    ({"vin": "not a vin", "lines": [{"number": "12138616153", "quantity": 1}]}, "VALIDATION_FAILED", "vin"),
    ({"vin": CAR["vin"], "lines": [{"number": "12138616153", "quantity": "4"}]}, "VALIDATION_FAILED", "lines"),
]


def names(body, field):
    return body["details"].get("field") == field or field in body["details"].get("fields", {})


def test_bad_input_is_answered_in_words_naming_the_field_and_changes_nothing(api, counter):
    workshop = counter
    with_parts_access(api, workshop)
    for path, params, status, code, field in BAD_READS:
        answer = api("GET", path, workshop.token, params=params)
        assert answer.status_code == status, (path, params, answer.text)
        assert error(answer)["code"] == code and names(error(answer), field), (path, params, answer.text)
        if code == "PART_NOT_FOUND":
            assert "12 13 8 616 153" in error(answer)["details"]["near"]
    for body, code, field in BAD_REQUESTS:
        answer = api("POST", "/api/v1/parts/requests", workshop.token, json=body)
        assert answer.status_code in (404, 422), (body, answer.text)
        assert error(answer)["code"] == code and names(error(answer), field), (body, answer.text)
    assert api("GET", "/api/v1/parts/requests", workshop.token).json() == {"requests": []}, "nothing was sent"


def test_a_kit_only_part_is_ordered_as_its_kit(api, counter, parts_package):
    workshop = counter
    with_parts_access(api, workshop)
    kit = json.loads((parts_package / "kits.jsonl").read_text().splitlines()[0])
    inner = kit["contents"][0]["number"]
    found = api("GET", f"/api/v1/parts/parts/{kit['kit']}", workshop.token).json()
    assert {c["number"] for c in found["contents"]} == {c["number"] for c in kit["contents"]}
    refused = api("POST", "/api/v1/parts/requests", workshop.token, json={
        "vin": CAR["vin"], "lines": [{"number": inner, "quantity": 1}]})
    assert refused.status_code == 422 and error(refused)["code"] == "SOLD_ONLY_IN_KIT"
    assert error(refused)["details"]["kit"] == written(kit["kit"])
