"""What platform staff and client developers rely on: health, readiness, the OpenAPI document, metrics."""
import re

import pytest
import requests

from deploy.ports import free_port
from deploy.processes import SERVICES
from tests.helpers import eventually


def test_health_and_readiness(api):
    assert api("GET", "/health").json() == {"status": "alive"}
    ready = eventually(lambda: (lambda a: a if a.status_code == 200 else None)(api("GET", "/ready")),
                       what="the gateway to have identity's revocations")
    assert ready.json() == {"status": "ready", "checks": {**{service: "ok" for service in SERVICES},
                                                          "revocations": "ok"}}


def test_readiness_fails_when_identity_is_gone(runner_factory, config):
    from gateway.service import GatewayService
    runner_factory(config, GatewayService).start()
    ready = requests.get(f"http://{config['WEB_SERVER_ADDRESS']}/ready", timeout=10)
    assert ready.status_code == 503
    assert ready.json()["checks"]["identity"].startswith("unreachable")


IDENTITY_ROUTES = {
    ("post", "/api/v1/operators"), ("post", "/api/v1/auth/login"), ("post", "/api/v1/auth/totp"),
    ("post", "/api/v1/auth/totp/enrol"), ("post", "/api/v1/auth/totp/confirm"), ("post", "/api/v1/auth/refresh"),
    ("post", "/api/v1/auth/logout"), ("get", "/api/v1/me"), ("get", "/api/v1/operators/{operator_id}/users"),
    ("post", "/api/v1/operators/{operator_id}/users"), ("patch", "/api/v1/operators/{operator_id}/users/{user_id}"),
}


def test_the_openapi_document_describes_every_route_with_its_schemas(api):
    doc = api("GET", "/api/v1/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    served = {(method, path) for path, ops in doc["paths"].items() for method in ops}
    assert IDENTITY_ROUTES <= served
    register = doc["paths"]["/api/v1/operators"]["post"]
    body = register["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/RegisterOperator"}
    schema = doc["components"]["schemas"]["RegisterOperator"]
    assert set(schema["required"]) == {"operator", "owner"}
    assert schema.get("additionalProperties") is False
    assert "202" in register["responses"] and "422" in register["responses"]
    assert register["security"] == [] and doc["paths"]["/api/v1/me"]["get"]["security"] == [{"bearer": []}]
    assert doc["components"]["schemas"]["Error"]["properties"]["error"]


def metric(text, name, **labels):
    pattern = name + r"\{" + r",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + r"\} ([0-9.e+]+)"
    match = re.search(pattern, text)
    return float(match.group(1)) if match else 0.0


@pytest.fixture
def scrape(config):
    """The gateway's metrics, from its own listener (every service of the test runs in this process: one registry)."""
    address = f"127.0.0.1:{free_port()}"
    config["METRICS_ADDRESSES"] = {"gateway": address}
    return lambda: requests.get(f"http://{address}/metrics", timeout=5).text


def test_metrics_are_not_served_on_the_public_port(scrape, api):
    assert "aos_entrypoint_calls_total" in scrape()
    public = api("GET", "/metrics")
    assert public.status_code == 404 and public.json()["error"]["code"] == "ROUTE_NOT_FOUND"


def test_every_answer_tells_caches_and_browsers_to_keep_nothing_and_guess_nothing(api, workshop):
    for answer in (api("GET", "/api/v1/me", workshop.token), workshop.api("POST", "/api/v1/auth/refresh",
                   json={"refresh_token": workshop.tokens["refresh_token"]}), api("GET", "/api/v1/nowhere"),
                   api("GET", "/api/v1/tariffs"), api("GET", "/api/v1/me")):
        assert answer.headers["Cache-Control"] == "no-store", answer.url
        assert answer.headers["X-Content-Type-Options"] == "nosniff", answer.url


def test_every_entrypoint_is_counted_by_outcome_and_timed(scrape, api, workshop):
    text = scrape()
    before_ok = metric(text, "aos_entrypoint_calls_total", entrypoint="me", outcome="ok", service="identity")
    before_refused = metric(text, "aos_entrypoint_calls_total", entrypoint="me", outcome="client_error",
                            service="gateway")
    assert api("GET", "/api/v1/me", workshop.token).status_code == 200
    assert api("GET", "/api/v1/me", "garbage").status_code == 401
    # a service counts a call when its worker ends, just after the reply has gone: a moment after the answer
    eventually(lambda: metric(scrape(), "aos_entrypoint_calls_total", entrypoint="me",
                              outcome="ok", service="identity") == before_ok + 1, what="identity to count the call")
    text = scrape()
    assert metric(text, "aos_entrypoint_calls_total", entrypoint="me", outcome="client_error",
                  service="gateway") == before_refused + 1
    assert metric(text, "aos_entrypoint_duration_seconds_count", entrypoint="register_operator",
                  service="identity") >= 1
    assert 'aos_entrypoint_duration_seconds_bucket{entrypoint="me",le="0.05",service="gateway"}' in text


def test_a_service_serves_its_metrics_on_its_own_address(container_factory, config):
    from services.identity.service import IdentityService
    address = f"127.0.0.1:{free_port()}"
    config["METRICS_ADDRESSES"] = {"identity": address}
    container_factory(IdentityService, config).start()
    scraped = requests.get(f"http://{address}/metrics", timeout=5)
    assert scraped.status_code == 200
    assert "aos_entrypoint_calls_total" in scraped.text


def test_partners_get_the_event_catalogue(api):
    document = api("GET", "/api/v1/asyncapi.json").json()
    assert document["asyncapi"] == "3.0.0" and "AccessPurchased" in document["channels"]
    assert document["channels"]["OrderPlaced"]["bindings"]["amqp"]["exchange"]["name"] == "shop.events"


def test_the_gateway_serves_the_web_portal_and_nothing_beside_it(api):
    from gateway.portal import BUILT
    assert (BUILT / "index.html").exists(), "the portal is not built: make portal (make test does it)"
    page = api("GET", "/")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert page.headers["Cache-Control"] == "no-cache"
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"
    scripts = re.findall(r'src="(/assets/[^"]+\.js)"', page.text)
    assert scripts, page.text
    script = api("GET", scripts[0])
    assert script.status_code == 200 and "javascript" in script.headers["Content-Type"]
    assert "immutable" in script.headers["Cache-Control"]
    for path in ("/assets/missing.js", "/assets/..%2f..%2fpyproject.toml", "/assets/%2e%2e/index.html"):
        answer = api("GET", path)
        assert answer.status_code == 404, path
        assert answer.json()["error"]["code"] in ("FILE_NOT_FOUND", "ROUTE_NOT_FOUND"), path
    served = api("GET", "/api/v1/openapi.json").json()["paths"]
    assert "/" not in served and not any(p.startswith("/assets") for p in served)
