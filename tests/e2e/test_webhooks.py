"""Webhooks through the gateway, as a partner system meets them: an endpoint for its workshop's facts, each delivery
signed as Standard Webhooks says with a CloudEvents body and verified by the demo receiver with the maintained
library; another workshop's facts never sent; a receiver down for a while gets everything after, each once; a
delivery sent again by hand; a secret rotated without a gap; a URL inside a network refused in words."""
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from deploy import receiver
from deploy.ports import free_port
from tests.e2e.conftest import Workshop, buy, error, top_up
from tests.e2e.test_users import invite, join
from tests.helpers import eventually


@pytest.fixture(autouse=True)
def quick_retries(config):
    """A failed delivery tried again after 0.3 s (then ×4): the test's minutes are the production's days. A receiver
    has 2.5 s to answer: with 1 s, a redelivery to the demo receiver (a process of its own that checks each
    signature) stayed pending once on the loaded test machine, most likely answered late; the slow receiver below
    still takes longer (4 s)."""
    config["ENVIRONMENT"]["AOS_WEBHOOK_FIRST_RETRY_SECONDS"] = "0.3"
    config["ENVIRONMENT"]["AOS_WEBHOOK_TIMEOUT_SECONDS"] = "2.5"


@pytest.fixture
def partner(tmp_path):
    folder, port = tmp_path / "receiver", free_port()
    folder.mkdir()
    process = receiver.start(folder, port)
    state = {"process": process}
    yield folder, port, state
    state["process"].terminate()
    state["process"].wait(timeout=10)


def purchases(folder):
    return [r["event"] for r in receiver.read(folder) if r["event"]["type"] == "AccessPurchased"]


def endpoint(api, workshop, url, types=("AccessPurchased",)):
    return api("POST", "/api/v1/webhooks", workshop.token, json={"url": url, "event_types": list(types),
                                                                   "description": "dealer DMS"})


def test_a_partner_gets_its_workshop_s_purchases_signed_once_each_through_a_downtime_and_a_rotation(
        api, system, partner):
    folder, port, state = partner
    workshop = Workshop(api)
    made = endpoint(api, workshop, f"http://127.0.0.1:{port}/hooks")
    assert made.status_code == 201, made.text
    hook = made.json()
    assert hook["secret"].startswith("whsec_") and hook["state"] == "active"
    (folder / "secrets").write_text(hook["secret"] + "\n")
    listed = api("GET", "/api/v1/webhooks", workshop.token).json()
    assert "secret" not in listed["endpoints"][0] and "AccessPurchased" in listed["event_types"]
    assert "SignInFailed" in listed["event_types"] and "TrailExported" not in listed["event_types"]

    eventually(lambda: top_up(api, workshop, 20000).status_code == 201, what="billing to know the workshop")
    assert buy(api, workshop, "air-1h").status_code == 201
    [first] = eventually(lambda: purchases(folder), what="the purchase to reach the partner")
    assert first["specversion"] == "1.0" and first["source"] == "/aos/billing"
    assert first["data"]["operator_id"] == workshop.operator_id and first["data"]["tariff_code"] == "air-1h"

    rival = Workshop(api, email="chef@autohaus-schmidt.de", vat_id=None, legal_name="Autohaus Schmidt")
    eventually(lambda: top_up(api, rival, 5000).status_code == 201, what="billing to know the rival")
    assert buy(api, rival, "air-1h").status_code == 201  # another workshop's fact: never sent to this endpoint

    state["process"].terminate()  # the partner's receiver goes down
    state["process"].wait(timeout=10)
    for _ in range(2):
        assert buy(api, workshop, "air-1h").status_code == 201
    log = eventually(lambda: [d for d in api("GET", f"/api/v1/webhooks/{hook['id']}/deliveries",
                                              workshop.token).json()["deliveries"]
                              if d["status"] == "pending" and d["attempts"]], what="tries that fail")
    assert log[0]["attempts"][0]["status_code"] is None and "Connection" in log[0]["attempts"][0]["error"]
    state["process"] = receiver.start(folder, port)  # back: everything comes after, each once
    got = eventually(lambda: (lambda p: p if len(p) == 3 else None)(purchases(folder)), timeout=30,
                     what="the purchases made while it was down")
    assert len({e["id"] for e in got}) == 3 and {e["data"]["operator_id"] for e in got} == {workshop.operator_id}
    # the receiver keeps an event before it answers: the log says delivered once its answer is recorded
    deliveries = eventually(lambda: (lambda d: d if {x["status"] for x in d} == {"delivered"} else None)(
        api("GET", f"/api/v1/webhooks/{hook['id']}/deliveries", workshop.token).json()["deliveries"]),
        what="the answers to be recorded")
    assert {d["status"] for d in deliveries} == {"delivered"} and len(deliveries) == 3
    assert not (folder / "refused.jsonl").exists()  # every signature verified

    # sent again by hand: the same webhook-id, which the receiver has, so nothing is kept twice
    tried = len(deliveries[0]["attempts"])
    again = api("POST", f"/api/v1/webhooks/{hook['id']}/deliveries/{deliveries[0]['id']}/redeliver", workshop.token)
    assert again.status_code == 200 and again.json()["status"] == "pending"
    redelivered = eventually(lambda: (lambda d: d if len(d["attempts"]) == tried + 1 else None)(next(
        d for d in api("GET", f"/api/v1/webhooks/{hook['id']}/deliveries", workshop.token).json()["deliveries"]
        if d["id"] == deliveries[0]["id"])), what="the redelivery")
    assert redelivered["status"] == "delivered" and redelivered["attempts"][-1]["status_code"] == 200, redelivered["attempts"]
    assert len(purchases(folder)) == 3

    # a rotation: the old secret still signs for a day beside the new, so either verifies meanwhile
    rotated = api("POST", f"/api/v1/webhooks/{hook['id']}/rotate", workshop.token).json()
    assert rotated["secret"] != hook["secret"] and rotated["previous_secret_until"]
    for secret in (rotated["secret"], hook["secret"]):
        (folder / "secrets").write_text(secret + "\n")
        count = len(purchases(folder))
        assert buy(api, workshop, "air-1h").status_code == 201
        eventually(lambda: len(purchases(folder)) == count + 1, what="a purchase after the rotation")
    assert not (folder / "refused.jsonl").exists()


@pytest.mark.parametrize("url", [
    "http://10.0.0.8/hooks", "https://192.168.1.20/hooks", "http://169.254.169.254/latest/meta-data/",
    "https://[fd00::1]/hooks", "ftp://127.0.0.1/hooks", "https://user:secret@127.0.0.1/hooks",
    "https://no-such-host.invalid/hooks", "not a url", "https://[fd00::1/hooks",
])
def test_an_endpoint_inside_a_network_is_refused_in_words_and_nothing_is_made(api, system, url):
    workshop = Workshop(api)
    refused = endpoint(api, workshop, url)
    assert refused.status_code == 422 and error(refused)["code"] == "WEBHOOK_URL_REFUSED", refused.text
    assert error(refused)["details"]["field"] == "url"
    assert api("GET", "/api/v1/webhooks", workshop.token).json()["endpoints"] == []


def test_endpoints_are_the_owner_s_and_bad_requests_name_the_field(api, system, partner):
    folder, port, _ = partner
    workshop = Workshop(api)
    unknown = endpoint(api, workshop, f"http://127.0.0.1:{port}/", types=["AccessPurchased", "TrailExported"])
    assert unknown.status_code == 422 and error(unknown)["details"]["unknown"] == ["TrailExported"]
    empty = endpoint(api, workshop, f"http://127.0.0.1:{port}/", types=[])
    assert empty.status_code == 422 and "event_types" in str(error(empty)["details"])
    technician = join(api, invite(api, workshop, "tom@werkstatt-mueller.de", "technician").json())
    assert api("POST", "/api/v1/webhooks", technician["access_token"], json={
        "url": f"http://127.0.0.1:{port}/", "event_types": ["AccessPurchased"]}).status_code == 403
    hook = endpoint(api, workshop, f"http://127.0.0.1:{port}/").json()
    rival = Workshop(api, email="chef@autohaus-schmidt.de", vat_id=None, legal_name="Autohaus Schmidt")
    for method, path in (("GET", f"/api/v1/webhooks/{hook['id']}/deliveries"),
                         ("POST", f"/api/v1/webhooks/{hook['id']}/rotate"), ("DELETE", f"/api/v1/webhooks/{hook['id']}")):
        answer = api(method, path, rival.token)
        assert answer.status_code == 404 and error(answer)["code"] == "ENDPOINT_NOT_FOUND"
    # the partner system's key with the `events` scope reads the log and redelivers; it changes nothing else
    events = api("POST", "/api/v1/keys", workshop.token, json={"name": "DMS", "scopes": ["events"]}).json()["key"]
    other = api("POST", "/api/v1/keys", workshop.token, json={"name": "Tool", "scopes": ["air"]}).json()["key"]
    assert [e["id"] for e in api("GET", "/api/v1/webhooks", events).json()["endpoints"]] == [hook["id"]]
    assert api("GET", f"/api/v1/webhooks/{hook['id']}/deliveries", events).json()["deliveries"] == []
    out_of_scope = api("GET", f"/api/v1/webhooks/{hook['id']}/deliveries", other)
    assert out_of_scope.status_code == 403 and "events" in error(out_of_scope)["message"]
    for method, path in (("POST", f"/api/v1/webhooks/{hook['id']}/rotate"), ("DELETE", f"/api/v1/webhooks/{hook['id']}")):
        answer = api(method, path, events)
        assert answer.status_code == 403 and error(answer)["code"] == "API_KEY_NOT_ACCEPTED", answer.text
    rivals = api("POST", "/api/v1/keys", rival.token, json={"name": "DMS", "scopes": ["events"]}).json()["key"]
    assert api("GET", f"/api/v1/webhooks/{hook['id']}/deliveries", rivals).status_code == 404
    assert api("GET", "/api/v1/webhooks", rivals).json()["endpoints"] == []
    off = api("PATCH", f"/api/v1/webhooks/{hook['id']}", workshop.token, json={"enabled": False})
    assert off.status_code == 200 and off.json()["state"] == "disabled"
    assert api("DELETE", f"/api/v1/webhooks/{hook['id']}", workshop.token).json()["deleted"]


def test_a_receiver_that_answers_slowly_holds_no_worker(api, system):
    class Slow(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            time.sleep(4)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass
    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        workshop = Workshop(api)
        hook = endpoint(api, workshop, f"http://127.0.0.1:{server.server_address[1]}/").json()
        eventually(lambda: top_up(api, workshop, 20000).status_code == 201, what="billing to know the workshop")
        for _ in range(3):
            assert buy(api, workshop, "air-1h").status_code == 201
        started = time.monotonic()
        for _ in range(5):  # the workshop's other requests answer while the deliveries wait on the receiver
            assert api("GET", "/api/v1/webhooks", workshop.token).status_code == 200
        assert time.monotonic() - started < 3
        tried = eventually(lambda: [a for d in api("GET", f"/api/v1/webhooks/{hook['id']}/deliveries",
                                                   workshop.token).json()["deliveries"] for a in d["attempts"]],
                           what="a try to time out")
        assert tried[0]["status_code"] is None and "Timeout" in tried[0]["error"]
    finally:
        server.shutdown()
