"""Passkeys as a second factor beside TOTP: added by a signed-in user, answering the sign-in's second step; a key
signs for this portal's origin only, once per challenge, and only for its own account."""
import time

from tests.e2e.conftest import STRONG, Workshop, error
from tests.passkey import SoftPasskey

ORIGIN = "http://portal.test"  # the tests' AOS_PORTAL_URL


def add_passkey(api, workshop, key, name="workshop laptop"):
    started = api("POST", "/api/v1/auth/passkeys/options", workshop.token).json()
    assert started["options"]["rp"] == {"id": "portal.test", "name": "AOS"}
    added = api("POST", "/api/v1/auth/passkeys", workshop.token,
                json={"ceremony": started["ceremony"], "credential": key.create(started["options"]), "name": name})
    assert added.status_code == 201, added.text
    return added.json()


def passkey_step(api, workshop, key, origin=None):
    login = api("POST", "/api/v1/auth/login", json={"email": workshop.email, "password": STRONG}).json()
    assert "passkey" in login["factors"]
    options = api("POST", "/api/v1/auth/passkey/options", json={"challenge": login["challenge"]}).json()
    return login["challenge"], options, key.get(options["options"], origin)


def test_a_user_adds_a_passkey_and_signs_in_with_it(api, workshop):
    key = SoftPasskey(ORIGIN)
    added = add_passkey(api, workshop, key)
    assert [p["name"] for p in api("GET", "/api/v1/auth/passkeys", workshop.token).json()["passkeys"]] == [
        "workshop laptop"]
    challenge, options, answer = passkey_step(api, workshop, key)
    signed_in = api("POST", "/api/v1/auth/passkey",
                    json={"challenge": challenge, "ceremony": options["ceremony"], "credential": answer})
    assert signed_in.status_code == 200, signed_in.text
    assert api("GET", "/api/v1/me", signed_in.json()["access_token"]).status_code == 200
    again = api("POST", "/api/v1/auth/passkey",
                json={"challenge": challenge, "ceremony": options["ceremony"], "credential": answer})
    assert again.status_code == 401 and error(again)["code"] == "CHALLENGE_USED"
    listed = api("GET", "/api/v1/auth/passkeys", workshop.token).json()["passkeys"]
    assert listed[0]["last_used_at"] is not None
    assert api("DELETE", f"/api/v1/auth/passkeys/{added['id']}", workshop.token).status_code == 200
    assert api("GET", "/api/v1/auth/passkeys", workshop.token).json()["passkeys"] == []


def test_a_passkey_answers_for_its_own_origin_key_and_account_only(api, workshop):
    key = SoftPasskey(ORIGIN)
    add_passkey(api, workshop, key)
    challenge, options, phished = passkey_step(api, workshop, key, origin="http://aos-login.example")
    refused = api("POST", "/api/v1/auth/passkey",
                  json={"challenge": challenge, "ceremony": options["ceremony"], "credential": phished})
    assert refused.status_code == 401 and error(refused)["code"] == "PASSKEY_WRONG"  # a look-alike site gets nothing
    impostor = SoftPasskey(ORIGIN)
    impostor.credential_id, impostor.user_handle = key.credential_id, key.user_handle  # the id, not the key
    challenge, options, forged = passkey_step(api, workshop, impostor)
    refused = api("POST", "/api/v1/auth/passkey",
                  json={"challenge": challenge, "ceremony": options["ceremony"], "credential": forged})
    assert refused.status_code == 401 and error(refused)["code"] == "PASSKEY_WRONG"
    other = Workshop(api, email="chef@werkstatt-nord.de", vat_id=None)
    theirs = SoftPasskey(ORIGIN)
    add_passkey(api, other, theirs)
    challenge, options, _ = passkey_step(api, workshop, key)
    crossed = api("POST", "/api/v1/auth/passkey", json={"challenge": challenge, "ceremony": options["ceremony"],
                                                        "credential": theirs.get(options["options"])})
    assert crossed.status_code == 401 and error(crossed)["code"] == "LOGIN_FAILED"


def test_a_ceremony_belongs_to_its_sign_in_and_a_bad_credential_is_named(api, workshop):
    key = SoftPasskey(ORIGIN)
    started = api("POST", "/api/v1/auth/passkeys/options", workshop.token).json()
    broken = api("POST", "/api/v1/auth/passkeys", workshop.token,
                 json={"ceremony": started["ceremony"], "credential": {"id": "x", "response": {}}, "name": "x"})
    assert broken.status_code == 422 and error(broken)["details"]["field"] == "credential"
    add_passkey(api, workshop, key)
    first, options, answer = passkey_step(api, workshop, key)
    time.sleep(0.01)
    second = api("POST", "/api/v1/auth/login", json={"email": workshop.email, "password": STRONG}).json()["challenge"]
    mixed = api("POST", "/api/v1/auth/passkey", json={"challenge": second, "ceremony": options["ceremony"],
                                                      "credential": answer})
    assert mixed.status_code == 401 and error(mixed)["code"] == "CEREMONY_INVALID"
    none = Workshop(api, email="ohne@werkstatt-sued.de", vat_id=None)
    login = api("POST", "/api/v1/auth/login", json={"email": none.email, "password": STRONG}).json()
    assert "passkey" not in login["factors"]
    no_key = api("POST", "/api/v1/auth/passkey/options", json={"challenge": login["challenge"]})
    assert no_key.status_code == 409 and error(no_key)["code"] == "NO_PASSKEY"
