"""The journey of issue "first end-to-end slice": register, enrol TOTP, log in, /me, refresh, log out, refused."""
import time

import pyotp

from tests.e2e.conftest import STRONG, registration


def test_a_new_workshop_registers_enrols_logs_in_refreshes_and_logs_out(api):
    started = time.time_ns()
    registered = api("POST", "/api/v1/operators", json=registration())
    assert registered.status_code == 202, registered.text
    assert registered.json()["sent_to"] == "meister@werkstatt-mueller.de"
    mail = api.mailbox.latest("meister@werkstatt-mueller.de", since_ns=started)
    assert api("POST", "/api/v1/auth/email/verify",
               json={"token": api.mailbox.token(mail, "verify-email")}).status_code == 200

    # Without a factor, the password leads only to enrolment, and the enrolment token opens nothing else.
    login = api("POST", "/api/v1/auth/login", json={"email": "Meister@Werkstatt-Mueller.de ", "password": STRONG})
    assert login.status_code == 200, login.text
    assert login.json()["next"] == "enrol"
    enrolment_token = login.json()["enrolment_token"]
    refused = api("GET", "/api/v1/me", enrolment_token)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "SECOND_FACTOR_REQUIRED"

    enrolment = api("POST", "/api/v1/auth/totp/enrol", enrolment_token)
    assert enrolment.status_code == 200, enrolment.text
    secret = enrolment.json()["secret"]
    assert enrolment.json()["otpauth_uri"].startswith("otpauth://totp/AOS:")
    assert enrolment.json()["qr_svg"].lstrip().startswith("<svg")
    totp = pyotp.TOTP(secret)

    confirmed = api("POST", "/api/v1/auth/totp/confirm", enrolment_token, json={"code": totp.now()})
    assert confirmed.status_code == 200, confirmed.text
    assert len(confirmed.json()["recovery_codes"]) == 10
    assert len(set(confirmed.json()["recovery_codes"])) == 10

    # Log in the ordinary way: password, then a code of the next time step (this one has been used).
    first = api("POST", "/api/v1/auth/login", json={"email": "meister@werkstatt-mueller.de", "password": STRONG})
    assert first.json()["next"] == "totp"
    tokens = api("POST", "/api/v1/auth/totp",
                 json={"challenge": first.json()["challenge"], "code": totp.at(time.time() + 30)})
    assert tokens.status_code == 200, tokens.text
    access, refresh = tokens.json()["access_token"], tokens.json()["refresh_token"]

    me = api("GET", "/api/v1/me", access)
    assert me.status_code == 200, me.text
    assert me.json()["user"]["email"] == "meister@werkstatt-mueller.de"
    assert me.json()["user"]["second_factor"] == "totp"
    assert me.json()["operator"]["legal_name"] == "Werkstatt Müller"
    assert me.json()["operator"]["vat_id"] == "DE136695976" and me.json()["user"]["email_verified"]
    assert me.json()["roles"] == ["owner"]

    rotated = api("POST", "/api/v1/auth/refresh", json={"refresh_token": refresh})
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["refresh_token"] != refresh
    assert api("GET", "/api/v1/me", rotated.json()["access_token"]).status_code == 200

    out = api("POST", "/api/v1/auth/logout", rotated.json()["access_token"])
    assert out.status_code == 200, out.text
    after = api("POST", "/api/v1/auth/refresh", json={"refresh_token": rotated.json()["refresh_token"]})
    assert after.status_code == 401
    assert after.json()["error"]["code"] == "REFRESH_TOKEN_INVALID"
