"""What keeps an account safe: generic login failures in equal time, throttling, single-use codes, token checks,
refresh rotation with reuse detection."""
import statistics
import time
from datetime import datetime, timedelta, timezone

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.e2e.conftest import STRONG, register


def error(answer):
    return answer.json()["error"]


def login(api, email, password=STRONG):
    return api("POST", "/api/v1/auth/login", json={"email": email, "password": password})


def test_unknown_email_and_wrong_password_fail_alike(api, workshop):
    unknown, wrong = login(api, "nobody@werkstatt.de"), login(api, workshop.email, "Falsches-Passwort-99")
    assert unknown.status_code == wrong.status_code == 401
    assert error(unknown) == error(wrong) == {"code": "LOGIN_FAILED", "message": "Login failed", "details": {}}


@pytest.mark.config(AOS_LOGIN_MAX_ACCOUNT_FAILURES=100, AOS_LOGIN_MAX_ADDRESS_FAILURES=1000)
def test_unknown_email_and_wrong_password_take_the_same_time(api, workshop):
    samples = {"unknown": [], "wrong": []}
    for i in range(8):  # interleaved, so machine noise hits both alike
        for kind, email in (("unknown", f"nobody{i}@werkstatt.de"), ("wrong", workshop.email)):
            started = time.perf_counter()
            assert login(api, email, "Falsches-Passwort-99").status_code == 401
            samples[kind].append(time.perf_counter() - started)
    unknown, wrong = statistics.median(samples["unknown"]), statistics.median(samples["wrong"])
    assert 0.67 < unknown / wrong < 1.5, f"unknown {unknown * 1000:.1f} ms vs wrong password {wrong * 1000:.1f} ms"


def test_an_account_is_throttled_after_repeated_failures_with_the_time_to_wait(api, workshop):
    for _ in range(5):
        assert login(api, workshop.email, "Falsches-Passwort-99").status_code == 401
    throttled = login(api, workshop.email)  # even the right password waits now
    assert throttled.status_code == 429
    assert error(throttled)["code"] == "LOGIN_THROTTLED"
    wait = error(throttled)["details"]["retry_after_seconds"]
    assert 890 <= wait <= 900 and int(throttled.headers["Retry-After"]) == wait
    assert f"{wait} seconds" in error(throttled)["message"]


@pytest.mark.config(AOS_LOGIN_MAX_ACCOUNT_FAILURES=100, AOS_LOGIN_MAX_ADDRESS_FAILURES=6)
def test_an_address_is_throttled_across_accounts(api):
    for i in range(6):
        assert login(api, f"guess{i}@werkstatt.de", "Falsches-Passwort-99").status_code == 401
    throttled = login(api, "guess-next@werkstatt.de", "Falsches-Passwort-99")
    assert throttled.status_code == 429 and error(throttled)["code"] == "LOGIN_THROTTLED"


def test_wrong_and_replayed_totp_codes_are_refused(api, workshop):
    challenge = login(api, workshop.email).json()["challenge"]
    wrong_code = "000000" if workshop.code(1) != "000000" else "111111"
    wrong = api("POST", "/api/v1/auth/totp", json={"challenge": challenge, "code": wrong_code})
    assert wrong.status_code == 401 and error(wrong)["code"] == "TOTP_CODE_WRONG"
    assert error(wrong)["details"] == {"field": "code", "rule": "totp"}

    code = workshop.code(1)
    assert api("POST", "/api/v1/auth/totp", json={"challenge": challenge, "code": code}).status_code == 200
    replay = api("POST", "/api/v1/auth/totp", json={"challenge": login(api, workshop.email).json()["challenge"],
                                                     "code": code})
    assert replay.status_code == 401 and error(replay)["code"] == "TOTP_CODE_REUSED"


def test_malformed_second_factor_requests_name_the_field(api, workshop):
    challenge = login(api, workshop.email).json()["challenge"]
    both = api("POST", "/api/v1/auth/totp", json={"challenge": challenge})
    assert both.status_code == 422 and "code" in error(both)["details"]["fields"]
    letters = api("POST", "/api/v1/auth/totp", json={"challenge": challenge, "code": "12a456"})
    assert letters.status_code == 422 and error(letters)["details"]["fields"]["code"] == ["A code has 6 digits."]
    forged = api("POST", "/api/v1/auth/totp", json={"challenge": challenge[:-4] + "AAAA", "code": workshop.code(1)})
    assert forged.status_code == 401 and error(forged)["code"] == "CHALLENGE_INVALID"


def test_a_recovery_code_signs_in_once(api, workshop):
    code = workshop.recovery_codes[3]
    first = api("POST", "/api/v1/auth/totp", json={"challenge": login(api, workshop.email).json()["challenge"],
                                                    "recovery_code": code.lower()})
    assert first.status_code == 200, first.text
    again = api("POST", "/api/v1/auth/totp", json={"challenge": login(api, workshop.email).json()["challenge"],
                                                    "recovery_code": code})
    assert again.status_code == 401 and error(again)["code"] == "RECOVERY_CODE_WRONG"


def test_tampered_expired_and_foreign_tokens_are_refused(api, workshop, token_keys):
    good = workshop.token
    assert api("GET", "/api/v1/me", good).status_code == 200
    head, body, signature = good.split(".")
    tampered = ".".join([head, body, ("A" if signature[0] != "A" else "B") + signature[1:]])
    claims = jwt.decode(good, options={"verify_signature": False})
    with open(token_keys[0], "rb") as handle:
        from cryptography.hazmat.primitives import serialization
        ours = serialization.load_pem_private_key(handle.read(), password=None)
    past = datetime.now(timezone.utc) - timedelta(hours=1)
    expired = jwt.encode(dict(claims, iat=int(past.timestamp()), exp=int(past.timestamp()) + 60), ours, algorithm="EdDSA")
    foreign = jwt.encode(claims, Ed25519PrivateKey.generate(), algorithm="EdDSA")
    promoted = jwt.encode(dict(claims, role="owner", op="someone-else"), Ed25519PrivateKey.generate(), algorithm="EdDSA")
    unsigned = jwt.encode(claims, None, algorithm="none")
    for token, code in ((tampered, "TOKEN_INVALID"), (expired, "TOKEN_EXPIRED"), (foreign, "TOKEN_INVALID"),
                        (promoted, "TOKEN_INVALID"), (unsigned, "TOKEN_INVALID"), ("garbage", "TOKEN_INVALID")):
        answer = api("GET", "/api/v1/me", token)
        assert answer.status_code == 401, (code, answer.text)
        assert error(answer)["code"] == code
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    missing = api("GET", "/api/v1/me")
    assert missing.status_code == 401 and error(missing)["code"] == "TOKEN_MISSING"


def test_reusing_a_rotated_refresh_token_ends_the_whole_session(api, workshop):
    first = workshop.tokens["refresh_token"]
    second = api("POST", "/api/v1/auth/refresh", json={"refresh_token": first})
    assert second.status_code == 200
    stolen = api("POST", "/api/v1/auth/refresh", json={"refresh_token": first})
    assert stolen.status_code == 401 and error(stolen)["code"] == "REFRESH_TOKEN_REUSED"
    legit = api("POST", "/api/v1/auth/refresh", json={"refresh_token": second.json()["refresh_token"]})
    assert legit.status_code == 401 and error(legit)["code"] == "REFRESH_TOKEN_INVALID"
    unknown = api("POST", "/api/v1/auth/refresh", json={"refresh_token": "x" * 43})
    assert unknown.status_code == 401 and error(unknown)["code"] == "REFRESH_TOKEN_INVALID"


def test_logout_ends_only_that_session(api, workshop):
    other_session = workshop.login(code_offset=1)
    assert api("POST", "/api/v1/auth/logout", workshop.token).status_code == 200
    assert api("POST", "/api/v1/auth/refresh", json={"refresh_token": workshop.tokens["refresh_token"]}).status_code == 401
    still = api("POST", "/api/v1/auth/refresh", json={"refresh_token": other_session["refresh_token"]})
    assert still.status_code == 200, still.text


def test_an_enrolled_user_cannot_enrol_again_and_an_unenrolled_one_only_enrols(api, workshop):
    again = api("POST", "/api/v1/auth/totp/enrol", workshop.token)
    assert again.status_code == 409 and error(again)["code"] == "TOTP_ALREADY_ENROLLED"
    enrolment_token = register(api, email="neu@werkstatt.de", vat_id=None)
    for method, path in (("GET", "/api/v1/me"), ("POST", "/api/v1/auth/logout"),
                         ("GET", f"/api/v1/operators/{workshop.operator_id}/users")):
        answer = api(method, path, enrolment_token)
        assert answer.status_code == 403 and error(answer)["code"] == "SECOND_FACTOR_REQUIRED", path
    not_started = api("POST", "/api/v1/auth/totp/confirm", enrolment_token, json={"code": "123456"})
    assert not_started.status_code == 409 and error(not_started)["code"] == "TOTP_NOT_STARTED"
