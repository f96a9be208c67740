"""Spending rights: an owner grants a user the right to buy (tariffs, tools, on invoice), within a monthly budget
or without one; without it a user uses what the workshop bought. A refusal says why, and changes nothing."""
from types import SimpleNamespace

from tests.e2e.conftest import buy, credit, error, top_up
from tests.e2e.test_shop import catalogue, customer, order, status  # noqa: F401  (fixtures)
from tests.e2e.test_users import invite, join
from tests.helpers import eventually


def colleague(api, owner, role="technician"):
    invitation = invite(api, owner, "tom@werkstatt-mueller.de", role).json()
    tokens = join(api, invitation)
    return invitation["user"]["id"], tokens


def grant(api, owner, user_id, **rights):
    answer = api("PATCH", f"/api/v1/operators/{owner.operator_id}/users/{user_id}", owner.token,
                 json={"spending": rights})
    assert answer.status_code == 200, answer.text
    return answer.json()["spending"]


def renewed(api, tokens):
    """The user's next token (the old one stopped when the rights changed), carrying the new rights."""
    answer = eventually(lambda: (lambda a: a if a.status_code == 200 else None)(
        api("POST", "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})), what="a new token")
    tokens.update(answer.json())
    return SimpleNamespace(token=tokens["access_token"])


def test_without_the_right_a_technician_uses_what_the_workshop_bought(api, customer):
    _, tom = colleague(api, customer)
    me = SimpleNamespace(token=tom["access_token"])
    before = credit(api, customer)
    refused = buy(api, me, "air-1h")
    assert refused.status_code == 403 and error(refused)["code"] == "NOT_ALLOWED_TO_BUY"
    assert "owner" in error(refused)["message"]
    tools = order(api, me, ("ENET-CABLE-OBD", 1))
    assert tools.status_code == 403 and error(tools)["code"] == "NOT_ALLOWED_TO_BUY"
    assert credit(api, customer) == before
    assert buy(api, customer, "air-1h").status_code == 201  # the owner buys; the technician reads with it
    eventually(lambda: api("GET", "/api/v1/air/search", me.token, params={"q": "brake"}).json()["access"],
               what="the technician to read with the workshop's access")


def test_an_owner_grants_buying_within_a_monthly_budget(api, customer):
    tom_id, tom = colleague(api, customer)
    rights = grant(api, customer, tom_id, may_buy=True, monthly_budget_cents=2000)
    assert rights == {"may_buy": True, "on_invoice": False, "monthly_budget_cents": 2000}
    me = renewed(api, tom)
    assert buy(api, me, "air-1h").status_code == 201  # 10.71 EUR of 20.00
    over = buy(api, me, "air-1h")
    assert over.status_code == 403 and error(over)["code"] == "MONTHLY_BUDGET_EXCEEDED"
    assert error(over)["details"] == {"budget_cents": 2000, "spent_cents": 1071, "price_cents": 1071}
    on_invoice = order(api, me, ("ENET-CABLE-OBD", 1), payment_method="invoice")
    assert on_invoice.status_code == 403 and error(on_invoice)["code"] == "NOT_ALLOWED_ON_INVOICE"
    tools = order(api, me, ("ENET-CABLE-OBD", 2))  # 116.62 EUR: over the budget, which billing holds to
    assert tools.status_code == 201
    eventually(lambda: status(api, me, tools.json()["id"], "cancelled"), what="billing to refuse the order")
    cancelled = api("GET", f"/api/v1/shop/orders/{tools.json()['id']}", me.token).json()
    assert cancelled["cancel_reason"] == "payment_refused"


def test_only_the_owner_grants_and_a_grant_is_checked(api, customer):
    tom_id, tom = colleague(api, customer, role="admin")
    path = f"/api/v1/operators/{customer.operator_id}/users/{tom_id}"
    self_grant = api("PATCH", path, tom["access_token"], json={"spending": {"may_buy": True}})
    assert self_grant.status_code == 403 and error(self_grant)["code"] == "OWNER_ONLY"
    bad = api("PATCH", path, customer.token, json={"spending": {"monthly_budget_cents": -5}})
    assert bad.status_code == 422 and "spending" in error(bad)["details"]["fields"]
    assert top_up(api, SimpleNamespace(token=tom["access_token"]), 1000).status_code == 201  # an admin adds money
