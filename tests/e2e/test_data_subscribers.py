"""A tool maker registers as a data subscriber: it buys a data subscription (not time on a car, which is refused in
words and costs nothing), and its API key then mirrors the registry's build data as paid access opens it."""
import pytest

from deploy import vehicles
from tests.e2e.conftest import Workshop, buy, credit, error, fill_registry, top_up
from tests.e2e.test_exports import lines_of, stream
from tests.helpers import eventually

FEED = vehicles.generate(4, seed=43)


@pytest.fixture
def tool_maker(api):
    return Workshop(api, email="daten@diagnose-werkzeug.de", vat_id="DE129273398", legal_name="Diagnosewerkzeug AG",
                    kind="data_subscriber")


def test_a_data_subscriber_buys_data_not_time_on_a_car_and_its_key_mirrors_the_registry(api, system, tool_maker):
    fill_registry(system, FEED)
    me = api("GET", "/api/v1/me", tool_maker.token).json()
    assert me["operator"]["kind"] == "data_subscriber"
    eventually(lambda: top_up(api, tool_maker, 500000).status_code == 201, what="billing to know the subscriber")
    offered = {t["code"]: t for t in api("GET", "/api/v1/tariffs").json()["tariffs"]}
    assert offered["data-1m"]["kind"] == "data_subscription"
    assert set(offered["data-1m"]["scopes"]) == {"air", "vehicle_data", "parts"}

    made = api("POST", "/api/v1/keys", tool_maker.token, json={"name": "Mirror", "scopes": ["vehicles"]})
    assert made.status_code == 201, made.text
    key = made.json()["key"]
    assert stream(api, key, "/api/v1/exports/vehicles").status_code == 402  # no subscription yet

    before = credit(api, tool_maker)
    for workshops_only in ("prog-30", "diag-30", "licence-1y"):
        refused = buy(api, tool_maker, workshops_only)
        assert refused.status_code == 422, refused.text
        assert error(refused)["code"] == "TARIFF_FOR_WORKSHOPS"
        assert error(refused)["details"] == {"field": "tariff_code", "rule": "workshops_only"}
    refused = buy(api, tool_maker, "vin-1d", vin=FEED["vehicles"][0]["vin"])
    assert error(refused)["code"] == "TARIFF_FOR_WORKSHOPS"
    assert credit(api, tool_maker) == before  # a refusal costs nothing

    bought = buy(api, tool_maker, "data-1m")
    assert bought.status_code == 201, bought.text
    assert bought.json()["entitlement"]["kind"] == "data_subscription"
    assert credit(api, tool_maker) == before - bought.json()["gross_cents"]

    def mirrored():
        answer = stream(api, key, "/api/v1/exports/vehicles")
        return answer.status_code == 200 and lines_of(answer)
    lines = eventually(mirrored, what="the subscription to reach vehicle data")
    assert {line["vin"] for line in lines[:-1]} == {car["vin"] for car in FEED["vehicles"]}
    assert lines[-1]["end"] is True


def test_a_workshop_may_buy_a_data_subscription_too(api, workshop):
    eventually(lambda: top_up(api, workshop, 500000).status_code == 201, what="billing to know the workshop")
    assert api("GET", "/api/v1/me", workshop.token).json()["operator"]["kind"] == "workshop"
    assert buy(api, workshop, "data-1m").status_code == 201
    assert buy(api, workshop, "prog-30").status_code == 201
