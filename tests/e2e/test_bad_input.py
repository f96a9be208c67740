"""Bad input through HTTP: each a clear 4xx naming the rule, and nothing changes."""
import pytest

import time

from tests.e2e.conftest import register, registration


def error(answer):
    return answer.json()["error"]


def assert_nothing_registered(api):
    """The email and VAT id of the refused registrations are still free: registering them now mails the link to
    confirm a new account, which leads on to enrolment."""
    assert register(api)


def test_malformed_json_is_400_and_names_the_problem(api):
    answer = api("POST", "/api/v1/operators", data=b'{"operator": ', headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert error(answer)["code"] == "MALFORMED_JSON"
    assert_nothing_registered(api)


def test_a_body_that_is_not_an_object_is_400(api):
    answer = api("POST", "/api/v1/auth/login", json=["email", "password"])
    assert answer.status_code == 400 and error(answer)["code"] == "BODY_NOT_OBJECT"


def test_a_body_that_is_not_json_is_415(api):
    answer = api("POST", "/api/v1/auth/login", data="email=a", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 415 and error(answer)["code"] == "UNSUPPORTED_MEDIA_TYPE"


@pytest.mark.parametrize("change, field, message", [
    (lambda b: b["operator"].pop("legal_name"), "operator.legal_name", "Missing data for required field."),
    (lambda b: b["owner"].update(email=42), "owner.email", "Not a valid email address."),
    (lambda b: b["operator"].update(legal_name=["W"]), "operator.legal_name", "Not a valid string."),
    (lambda b: b["owner"].update(email="anna(at)werkstatt"), "owner.email", "Not a valid email address."),
    (lambda b: b["operator"].update(legal_name="W" * 201), "operator.legal_name", "Length must be between 1 and 200."),
    (lambda b: b["operator"].update(country="XX"), "operator.country", "Not a supported country code."),
    (lambda b: b["operator"]["address"].update(postal_code="!!"), "operator.address.postal_code", None),
    (lambda b: b.update(coupon="FREE"), "coupon", "Unknown field."),
    (lambda b: b["owner"].update(is_admin=True), "owner.is_admin", "Unknown field."),
])
def test_registration_field_errors_name_the_field_and_rule(api, change, field, message):
    body = registration()
    change(body)
    answer = api("POST", "/api/v1/operators", json=body)
    assert answer.status_code == 422, answer.text
    assert error(answer)["code"] == "VALIDATION_FAILED"
    fields = error(answer)["details"]["fields"]
    node = fields
    for part in field.split("."):
        node = node[part]
    if message:
        assert message in node
    assert field in error(answer)["message"]
    assert_nothing_registered(api)


@pytest.mark.parametrize("vat_id, code, rule", [
    ("DE136695977", "INVALID_VAT_ID", "checksum"),
    ("DE1366", "INVALID_VAT_ID", "format"),
    ("ATU13585627", "VAT_ID_COUNTRY_MISMATCH", "country_prefix"),
])
def test_invalid_vat_ids_are_refused(api, vat_id, code, rule):
    answer = api("POST", "/api/v1/operators", json=registration(vat_id=vat_id))
    assert answer.status_code == 422, answer.text
    assert error(answer)["code"] == code
    assert error(answer)["details"] == {"field": "operator.vat_id", "rule": rule}
    assert_nothing_registered(api)


@pytest.mark.parametrize("password, rule", [("kurz", "min_length"), ("qwerty123456", "common_password"),
                                            ("mueller123456", "guessable")])
def test_weak_passwords_are_refused(api, password, rule):
    answer = api("POST", "/api/v1/operators", json=registration(password=password))
    assert answer.status_code == 422, answer.text
    assert error(answer)["code"] == "WEAK_PASSWORD"
    assert error(answer)["details"]["field"] == "owner.password"
    assert error(answer)["details"]["rule"] == rule
    assert_nothing_registered(api)


@pytest.mark.both_databases  # each database refuses its own way: never a 500
def test_a_second_registration_tells_nothing_of_the_address_and_a_taken_vat_id_conflicts(api):
    first = api("POST", "/api/v1/operators", json=registration())
    assert first.status_code == 202, first.text
    started = time.time_ns()
    same_email = api("POST", "/api/v1/operators", json=registration(vat_id=None))
    new_email = api("POST", "/api/v1/operators", json=registration(email="neu@werkstatt-ost.de", vat_id=None))
    assert same_email.status_code == new_email.status_code == 202  # the same answer, whoever has the address
    assert same_email.json() == new_email.json() | {"sent_to": "meister@werkstatt-mueller.de"}
    # the address's owner is told by mail instead; nothing was registered for it (no link to confirm)
    told = api.mailbox.latest("meister@werkstatt-mueller.de", since_ns=started, subject="registrieren")
    assert "verify-email" not in api.mailbox.text(told) and "#/login" in api.mailbox.text(told)
    for email in ("other@werkstatt.de", "meister@werkstatt-mueller.de"):  # a taken VAT id: the same, whatever the email
        same_vat = api("POST", "/api/v1/operators", json=registration(email=email))
        assert same_vat.status_code == 409 and error(same_vat) == {
            "code": "VAT_ID_TAKEN", "message": "A workshop with this VAT id is registered already.",
            "details": {"field": "operator.vat_id"}}


@pytest.mark.config(AOS_MAX_BODY_BYTES=2048)
def test_a_body_over_the_limit_is_413_before_any_work(api):
    body = registration()
    body["operator"]["legal_name"] = "W" * 4000
    answer = api("POST", "/api/v1/operators", json=body)
    assert answer.status_code == 413
    assert error(answer)["code"] == "BODY_TOO_LARGE" and error(answer)["details"] == {"limit_bytes": 2048}
    assert_nothing_registered(api)


def test_unknown_routes_and_methods_answer_in_json(api):
    missing = api("GET", "/api/v1/nothing-here")
    assert missing.status_code == 404 and error(missing)["code"] == "ROUTE_NOT_FOUND"
    wrong = api("DELETE", "/api/v1/me")
    assert wrong.status_code == 405 and error(wrong)["code"] == "METHOD_NOT_ALLOWED"


# ---- what a strict JSON reader refuses, on public and signed-in routes alike ----

@pytest.mark.both_databases  # each database refuses its own way: never a 500
def test_a_lone_surrogate_nul_or_deep_nesting_is_refused_naming_where(api, workshop):
    register = api.base + "/api/v1/operators"
    import requests
    for body, status, field in (
            ('{"operator": {"legal_name": "\\ud800"}}', 422, "operator.legal_name"),
            ('{"email": "a\\u0000@b.de", "password": "x"}', 422, "email"),
            ("[" * 1000 + "]" * 1000, 400, None),
            ('{"a":' * 500 + "1" + "}" * 500, 400, None)):
        for url in (register, api.base + "/api/v1/auth/login"):
            answer = requests.post(url, data=body.encode(), headers={"Content-Type": "application/json"}, timeout=10)
            assert answer.status_code == status, (body[:40], answer.text)
            if field and url == register:
                assert answer.json()["error"]["details"]["field"] == field
    signed_in = api("POST", "/api/v1/agents", workshop.token, data='{"name": "bay\\udfff"}'.encode(),
                    headers={"Content-Type": "application/json"})
    assert signed_in.status_code == 422 and signed_in.json()["error"]["details"]["field"] == "name"
    in_query = api("GET", "/api/v1/air/search", workshop.token, params={"q": "brake\x00"})
    assert in_query.status_code == 422 and in_query.json()["error"]["details"]["field"] == "q.0"
    in_path = api("GET", "/api/v1/shop/products/BSU%00100")
    assert in_path.status_code == 422 and in_path.json()["error"]["details"]["field"] == "sku"


def test_an_odd_number_of_hex_digits_is_no_seed(api, workshop):
    agent = api("POST", "/api/v1/agents", workshop.token, json={"name": "bay 1"}).json()
    answer = api("POST", "/api/v1/agents/sessions/nowhere/security-key", json={"ecu_address": "0x12", "seed": "abc"},
                 headers={"Authorization": f"Agent {agent['id']}:{agent['credential']}"})
    assert answer.status_code == 422 and "seed" in answer.json()["error"]["details"]["fields"]
