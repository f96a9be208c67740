"""A workshop's API keys through the gateway, as a tool maker's script meets them: a key made with scopes and an
expiry, shown once, reads the data its scopes name as its workshop (paid access still decides), is counted per day,
throttled per key with the RateLimit headers, and refused in words when revoked, expired, out of scope, or sent to a
route that needs a signed-in user."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import update

from deploy import vehicles
from services.partners.models import ApiKey
from services.shared.database import make_engine
from tests.e2e.conftest import Workshop, buy, error, fill_registry, top_up
from tests.e2e.test_users import invite, join
from tests.helpers import eventually

FEED = vehicles.generate(5, seed=41)
CAR = FEED["vehicles"][0]
PER_MINUTE = 8


@pytest.fixture(autouse=True)
def few_requests_a_minute(config):
    """Each key allowed PER_MINUTE requests a minute, so that a test reaches the throttle (set before the system
    starts: autouse fixtures come first)."""
    config["ENVIRONMENT"]["AOS_KEY_REQUESTS_PER_MINUTE"] = str(PER_MINUTE)


def new_key(api, workshop, scopes=("vehicles",), name="Diagnosis tool of Bay 2", **more):
    return api("POST", "/api/v1/keys", workshop.token, json={"name": name, "scopes": list(scopes), **more})


def read_car(api, key):
    return api("GET", f"/api/v1/vehicles/{CAR['vin']}", key)


def test_a_key_reads_what_its_scopes_and_the_workshop_s_access_open_and_is_counted(api, system):
    fill_registry(system, FEED)
    workshop = Workshop(api)
    made = new_key(api, workshop, scopes=("vehicles", "air"), expires_in_days=30)
    assert made.status_code == 201, made.text
    key = made.json()["key"]
    assert key.startswith("aos_") and made.json()["prefix"] == key[:12]
    assert made.json()["scopes"] == ["air", "vehicles"] and made.json()["state"] == "active"
    expires = datetime.fromisoformat(made.json()["expires_at"])
    assert timedelta(days=29) < expires - datetime.now(timezone.utc) <= timedelta(days=30)
    listed = api("GET", "/api/v1/keys", workshop.token).json()
    assert "key" not in listed["keys"][0] and listed["keys"][0]["id"] == made.json()["id"]  # shown once only
    assert set(listed["scopes"]) == {"air", "vehicles", "parts", "diagnostics", "events"}

    # the key reads as its workshop: the VIN decoded for free, the build data only with paid access
    decoded = read_car(api, key)
    assert decoded.status_code == 200, decoded.text
    assert decoded.headers["RateLimit-Limit"] == str(PER_MINUTE)
    assert decoded.headers["RateLimit-Remaining"] == str(PER_MINUTE - 1)
    assert 0 < int(decoded.headers["RateLimit-Reset"]) <= 60
    assert not decoded.json().get("build")  # no access yet: what the workshop's users see
    eventually(lambda: top_up(api, workshop, 5000).status_code == 201, what="billing to know the workshop")
    assert buy(api, workshop, "air-1h").status_code == 201
    admitted = [decoded]
    eventually(lambda: admitted.append(read_car(api, key)) or admitted[-1].json().get("build"),
               what="vehicle data to hear of the purchase")
    admitted.append(api("GET", "/api/v1/air/search", key, params={"q": "brake"}))
    assert all(a.status_code == 200 for a in admitted)

    # a scope the key was not given, and a route only a signed-in user may call: refused in words, not counted
    parts = api("GET", "/api/v1/parts/catalogue", key)
    assert parts.status_code == 403 and error(parts)["code"] == "KEY_SCOPE"
    assert error(parts)["details"]["scope"] == "parts" and "parts" in error(parts)["message"]
    for method, path in (("GET", "/api/v1/me"), ("POST", "/api/v1/purchases"), ("GET", "/api/v1/keys")):
        refused = api(method, path, key, json={})
        assert refused.status_code == 403 and error(refused)["code"] == "API_KEY_NOT_ACCEPTED", (path, refused.text)

    used = api("GET", "/api/v1/keys", workshop.token).json()["keys"][0]
    today = datetime.now(timezone.utc).date().isoformat()
    assert used["usage"][-1] == {"day": today, "requests": len(admitted)} and len(used["usage"]) == 7
    assert used["last_used_at"] is not None


def test_a_key_is_throttled_per_key_with_retry_after(api, system):
    fill_registry(system, FEED)
    workshop = Workshop(api)
    first, second = (new_key(api, workshop, name=n).json()["key"] for n in ("script A", "script B"))
    answers = [read_car(api, first) for _ in range(PER_MINUTE + 1)]
    if answers[-1].status_code != 429:  # the minute turned mid-way: the new window's first requests were counted
        answers += [read_car(api, first) for _ in range(PER_MINUTE)]
    throttled = next(a for a in answers if a.status_code == 429)
    assert error(throttled)["code"] == "KEY_THROTTLED" and str(PER_MINUTE) in error(throttled)["message"]
    assert 0 < int(throttled.headers["Retry-After"]) <= 60 and throttled.headers["RateLimit-Remaining"] == "0"
    assert read_car(api, second).status_code == 200  # another key of the same workshop is not held up


def test_a_revoked_or_expired_key_is_refused_in_words_at_once(api, system):
    fill_registry(system, FEED)
    workshop = Workshop(api)
    made = new_key(api, workshop).json()
    assert read_car(api, made["key"]).status_code == 200
    revoked = api("DELETE", f"/api/v1/keys/{made['id']}", workshop.token)
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    refused = read_car(api, made["key"])  # the very next request: partners checks every one
    assert refused.status_code == 401 and error(refused)["code"] == "API_KEY_REVOKED"
    assert "revoked" in error(refused)["message"] and refused.headers["WWW-Authenticate"].startswith("Bearer")
    again = api("DELETE", f"/api/v1/keys/{made['id']}", workshop.token)
    assert again.status_code == 200 and again.json()["revoked_at"] == revoked.json()["revoked_at"]

    other = new_key(api, workshop, name="old script").json()
    engine = make_engine(system["DATABASE_URLS"]["partners"])
    with engine.begin() as connection:  # a year on: the key's end came
        connection.execute(update(ApiKey).where(ApiKey.id == other["id"])
                           .values(expires_at=datetime.now(timezone.utc) - timedelta(minutes=1)))
    engine.dispose()
    expired = read_car(api, other["key"])
    assert expired.status_code == 401 and error(expired)["code"] == "API_KEY_EXPIRED"
    tampered = read_car(api, other["key"][:-4] + "AAAA")
    assert tampered.status_code == 401 and error(tampered)["code"] == "API_KEY_INVALID"
    states = {k["name"]: k["state"] for k in api("GET", "/api/v1/keys", workshop.token).json()["keys"]}
    assert states == {"Diagnosis tool of Bay 2": "revoked", "old script": "expired"}


def test_keys_are_the_owner_s_to_manage_and_another_workshop_s_are_out_of_reach(api, system):
    workshop = Workshop(api)
    technician = join(api, invite(api, workshop, "tom@werkstatt-mueller.de", "technician").json())
    refused = api("POST", "/api/v1/keys", technician["access_token"], json={"name": "mine", "scopes": ["air"]})
    assert refused.status_code == 403 and error(refused)["code"] == "ROLE_NOT_ALLOWED"
    made = new_key(api, workshop).json()
    rival = Workshop(api, email="chef@autohaus-schmidt.de", vat_id=None, legal_name="Autohaus Schmidt")
    assert api("GET", "/api/v1/keys", rival.token).json()["keys"] == []
    gone = api("DELETE", f"/api/v1/keys/{made['id']}", rival.token)
    assert gone.status_code == 404 and error(gone)["code"] == "KEY_NOT_FOUND"
    assert api("GET", "/api/v1/keys", workshop.token).json()["keys"][0]["state"] == "active"


@pytest.mark.parametrize("body, field", [
    ({"scopes": ["air"]}, "name"),
    ({"name": "x", "scopes": []}, "scopes"),
    ({"name": "x", "scopes": ["everything"]}, "scopes"),
    ({"name": "x", "scopes": ["air"], "expires_in_days": 0}, "expires_in_days"),
    ({"name": "x", "scopes": ["air"], "expires_in_days": 367}, "expires_in_days"),
    ({"name": "x", "scopes": ["air"], "expires_in_days": "30"}, "expires_in_days"),
    ({"name": "a\u0000b", "scopes": ["air"]}, "name"),
    ({"name": "x", "scopes": ["air"], "secret": "mine"}, "secret"),
])
def test_a_bad_key_request_names_the_field_and_makes_no_key(api, system, body, field):
    workshop = Workshop(api)
    answer = api("POST", "/api/v1/keys", workshop.token, json=body)
    assert answer.status_code == 422 and field in str(error(answer)["details"]), answer.text
    assert api("GET", "/api/v1/keys", workshop.token).json()["keys"] == []
