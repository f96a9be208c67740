"""A token identity has revoked is refused on every route within a second, by the gateway alone: a deactivated
user, a signed-out session, a changed role. The gateway learns it from TokensRevoked, and from identity's list
when it starts."""
import time
from types import SimpleNamespace

from tests.e2e.conftest import error, key, top_up
from tests.e2e.test_users import invite, join
from tests.helpers import eventually

VIN = "WBA7K7109MW240891"


def routes(token):
    """What a leaver might still try: buy, add money, register an agent, search, read a car, ask who they are."""
    return {
        "purchase": ("POST", "/api/v1/purchases", {"json": {"tariff_code": "air-1h"}, "headers": {"Idempotency-Key": key()}}),
        "top-up": ("POST", "/api/v1/credit/top-ups", {"json": {"amount_cents": 1000, "card_token": "tok_visa"},
                                                      "headers": {"Idempotency-Key": key()}}),
        "agent": ("POST", "/api/v1/agents", {"json": {"name": "leaver's laptop"}}),
        "search": ("GET", "/api/v1/air/search", {"params": {"q": "brake"}}),
        "vehicle": ("GET", f"/api/v1/vehicles/{VIN}", {}),
        "me": ("GET", "/api/v1/me", {}),
    }


def refused_everywhere(api, token):
    answers = {name: api(method, path, token, **kw) for name, (method, path, kw) in routes(token).items()}
    return all(a.status_code == 401 and error(a)["code"] == "TOKEN_REVOKED" for a in answers.values()) and answers


def test_a_deactivated_user_is_refused_on_every_route_within_a_second(api, workshop):
    invitation = invite(api, workshop, "tom@werkstatt-mueller.de", "admin").json()
    tom = join(api, invitation)
    assert top_up(api, workshop, 5000).status_code == 201
    assert api("GET", "/api/v1/me", tom["access_token"]).status_code == 200
    off = api("PATCH", f"/api/v1/operators/{workshop.operator_id}/users/{invitation['user']['id']}", workshop.token,
              json={"active": False})
    assert off.status_code == 200
    started = time.monotonic()
    eventually(lambda: refused_everywhere(api, tom["access_token"]), timeout=1.0, what="refusal on every route")
    assert time.monotonic() - started < 1.0
    assert api("GET", "/api/v1/me", workshop.token).status_code == 200  # the owner goes on


def test_signing_out_ends_the_access_token_too(api, workshop):
    session = workshop.login()
    assert api("GET", "/api/v1/me", session["access_token"]).status_code == 200
    out = api("POST", "/api/v1/auth/logout", session["access_token"], json={"refresh_token": session["refresh_token"]})
    assert out.status_code == 200
    eventually(lambda: refused_everywhere(api, session["access_token"]), timeout=1.0, what="refusal after sign-out")
    assert api("GET", "/api/v1/me", workshop.token).status_code == 200  # another session of the same user goes on


def test_a_demoted_admin_cannot_add_money_with_the_old_token(api, workshop):
    invitation = invite(api, workshop, "ada@werkstatt-mueller.de", "admin").json()
    ada = join(api, invitation)
    assert top_up(api, SimpleNamespace(token=ada["access_token"]), 1000).status_code == 201
    demoted = api("PATCH", f"/api/v1/operators/{workshop.operator_id}/users/{invitation['user']['id']}",
                  workshop.token, json={"role": "technician"})
    assert demoted.status_code == 200
    eventually(lambda: refused_everywhere(api, ada["access_token"]), timeout=1.0, what="refusal after demotion")
    renewed = api("POST", "/api/v1/auth/refresh", json={"refresh_token": ada["refresh_token"]})
    assert renewed.status_code == 200  # still a member: a new token carries the new role
    again = top_up(api, SimpleNamespace(token=renewed.json()["access_token"]), 1000)
    assert again.status_code == 403 and error(again)["code"] == "ROLE_NOT_ALLOWED"
