"""An account's life by mail, read back from a real SMTP server: the address confirmed before anything is bought,
invitations delivered, a forgotten password reset by a one-time link (every session ends; the second factor is
still asked for), a password changed with the second factor, and a sign-in from an unknown device told."""
import time

import pyotp

from tests.e2e.conftest import STRONG, buy, error, registration, top_up
from tests.e2e.test_users import invite, join
from tests.helpers import Mailbox, eventually

NEW = "Nockenwelle-Steuerkette-31"


def test_a_new_workshop_confirms_its_address_before_it_signs_in(api):
    started = time.time_ns()
    answer = api("POST", "/api/v1/operators", json=registration("anna@werkstatt-nord.de", None, "AT"))
    assert answer.status_code == 202 and answer.json()["sent_to"] == "anna@werkstatt-nord.de"
    mail = api.mailbox.latest("anna@werkstatt-nord.de", since_ns=started)
    assert mail["Subject"] == "Bestätigen Sie Ihre E-Mail-Adresse für AOS"  # an Austrian workshop: German
    assert "Hallo Anna Müller" in Mailbox.text(mail) and mail.get_body(("html",)) is not None
    # before the address is confirmed, the sign-in fails as a wrong password does: it tells nobody of the account
    early = api("POST", "/api/v1/auth/login", json={"email": "anna@werkstatt-nord.de", "password": STRONG})
    wrong = api("POST", "/api/v1/auth/login", json={"email": "nobody@werkstatt-nord.de", "password": STRONG})
    assert early.status_code == wrong.status_code == 401 and error(early) == error(wrong)
    verified = api("POST", "/api/v1/auth/email/verify", json={"token": Mailbox.token(mail, "verify-email")})
    assert verified.status_code == 200 and verified.json() == {"email": "anna@werkstatt-nord.de", "verified": True}
    again = api("POST", "/api/v1/auth/email/verify", json={"token": Mailbox.token(mail, "verify-email")})
    assert again.status_code == 404 and error(again)["code"] == "VERIFICATION_INVALID"  # the link works once
    first = api("POST", "/api/v1/auth/login", json={"email": "anna@werkstatt-nord.de", "password": STRONG})
    assert first.status_code == 200 and first.json()["next"] == "enrol"
    enrolment = first.json()["enrolment_token"]
    secret = api("POST", "/api/v1/auth/totp/enrol", enrolment).json()["secret"]
    tokens = api("POST", "/api/v1/auth/totp/confirm", enrolment, json={"code": pyotp.TOTP(secret).now()}).json()
    owner = type("Owner", (), {"token": tokens["access_token"]})
    eventually(lambda: top_up(api, owner, 5000).status_code == 201, what="billing to know the workshop")
    assert buy(api, owner, "air-1h").status_code == 201
    resent = api("POST", "/api/v1/auth/email/resend", tokens["access_token"])
    assert resent.status_code == 409 and error(resent)["code"] == "EMAIL_ALREADY_VERIFIED"


def test_an_invitation_arrives_by_mail_and_its_link_joins(api, workshop):
    started = time.time_ns()
    assert invite(api, workshop, "tom@werkstatt-mueller.de", "technician").status_code == 201
    mail = api.mailbox.latest("tom@werkstatt-mueller.de", since_ns=started)
    assert "Werkstatt Müller" in mail["Subject"] and "Techniker" in Mailbox.text(mail)
    token = Mailbox.token(mail, "invitation")
    assert mail.get_body(("html",)).get_content().count(f"invitation?token={token}") == 2  # the button, the text
    joined = join(api, {"invitation_token": token})
    me = api("GET", "/api/v1/me", joined["access_token"]).json()
    assert me["user"]["email_verified"] is True  # the invitation came to this address


def test_a_forgotten_password_is_reset_by_a_one_time_link_and_every_session_ends(api, workshop):
    other_session = workshop.login()
    started = time.time_ns()
    asked = api("POST", "/api/v1/auth/password/forgot", json={"email": workshop.email})
    nobody = api("POST", "/api/v1/auth/password/forgot", json={"email": "nobody@werkstatt-mueller.de"})
    assert asked.status_code == nobody.status_code == 202 and asked.json() == nobody.json()  # nothing to learn
    mail = api.mailbox.latest(workshop.email, since_ns=started, subject="Passwort")
    token = Mailbox.token(mail, "reset-password")
    weak = api("POST", "/api/v1/auth/password/reset", json={"token": token, "password": "password123"})
    assert weak.status_code == 422 and error(weak)["details"]["field"] == "password"
    reset = api("POST", "/api/v1/auth/password/reset", json={"token": token, "password": NEW})
    assert reset.status_code == 200
    again = api("POST", "/api/v1/auth/password/reset", json={"token": token, "password": NEW + "!"})
    assert again.status_code == 404 and error(again)["code"] == "RESET_LINK_INVALID"  # once
    for session in (workshop.tokens, other_session):
        eventually(lambda s=session: api("GET", "/api/v1/me", s["access_token"]).status_code == 401,
                   timeout=1.0, what="every session to end")
        assert api("POST", "/api/v1/auth/refresh", json={"refresh_token": session["refresh_token"]}).status_code == 401
    old = api("POST", "/api/v1/auth/login", json={"email": workshop.email, "password": STRONG})
    assert old.status_code == 401
    new = api("POST", "/api/v1/auth/login", json={"email": workshop.email, "password": NEW})
    assert new.status_code == 200 and new.json()["next"] == "totp"  # the second factor is still asked for


def test_a_reset_link_expires_after_thirty_minutes(api, system, workshop):
    from sqlalchemy import update
    from sqlalchemy.orm import Session

    from services.identity.models import PasswordReset
    from services.shared.database import make_engine
    started = time.time_ns()
    api("POST", "/api/v1/auth/password/forgot", json={"email": workshop.email})
    token = Mailbox.token(api.mailbox.latest(workshop.email, since_ns=started, subject="Passwort"), "reset-password")
    engine = make_engine(system["DATABASE_URLS"]["identity"])
    with Session(engine) as s, s.begin():  # 31 minutes later
        from datetime import datetime, timedelta, timezone
        s.execute(update(PasswordReset).values(expires_at=datetime.now(timezone.utc) - timedelta(minutes=1)))
    engine.dispose()
    late = api("POST", "/api/v1/auth/password/reset", json={"token": token, "password": NEW})
    assert late.status_code == 404 and error(late)["code"] == "RESET_LINK_INVALID"


def test_a_password_is_changed_with_the_current_one_and_the_second_factor(api, workshop):
    path = "/api/v1/auth/password"
    wrong = api("POST", path, workshop.token, json={"current_password": "Falsch-Falsch-Falsch-1", "new_password": NEW,
                                                     "code": workshop.code(1)})
    assert wrong.status_code == 401 and error(wrong)["details"]["field"] == "current_password"
    no_factor = api("POST", path, workshop.token, json={"current_password": STRONG, "new_password": NEW})
    assert no_factor.status_code == 422 and "code" in error(no_factor)["details"]["fields"]
    changed = api("POST", path, workshop.token, json={"current_password": STRONG, "new_password": NEW,
                                                       "recovery_code": workshop.recovery_codes[0]})
    assert changed.status_code == 200, changed.text
    eventually(lambda: api("GET", "/api/v1/me", workshop.token).status_code == 401, timeout=1.0,
               what="the old session to end")
    assert api("GET", "/api/v1/me", changed.json()["access_token"]).status_code == 200
    assert api("POST", "/api/v1/auth/login", json={"email": workshop.email, "password": NEW}).status_code == 200


def test_a_sign_in_from_a_device_not_seen_before_is_told_by_mail(api, workshop):
    started = time.time_ns()
    first = workshop.login()  # a browser that never signed in: a mail
    mail = api.mailbox.latest(workshop.email, since_ns=started, subject="Neue Anmeldung")
    assert "127.0.0.1" in Mailbox.text(mail)
    seen = time.time_ns()
    again = api("POST", "/api/v1/auth/login", json={"email": workshop.email, "password": STRONG,
                                                    "device_token": first["device_token"]})
    api("POST", "/api/v1/auth/totp", json={"challenge": again.json()["challenge"], "device_token": first["device_token"],
                                           "recovery_code": workshop.recovery_codes[1]})
    time.sleep(0.5)
    assert api.mailbox.mails(workshop.email, since_ns=seen, subject="Neue Anmeldung") == []  # a known one: none


def test_the_owner_hears_of_each_invoice_and_of_access_ending_within_a_day(api, system, workshop):
    started = time.time_ns()
    eventually(lambda: top_up(api, workshop, 5000).status_code == 201, what="billing to know the workshop")
    bought = buy(api, workshop, "air-1h")
    assert bought.status_code == 201
    invoice = api.mailbox.latest(workshop.email, since_ns=started, subject="Rechnung")
    number = api("GET", "/api/v1/invoices", workshop.token).json()["invoices"][0]["number"]
    assert invoice["Subject"] == f"Rechnung {number} von AOS: 10.71 EUR"
    assert "http://portal.test/#/billing" in Mailbox.text(invoice)
    ending = api.mailbox.latest(workshop.email, since_ns=started, subject="endet", timeout=15)
    assert "Technical information, 1 hour endet am" in Mailbox.text(ending)
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from services.billing.models import Entitlement
    from services.shared.database import make_engine
    engine = make_engine(system["DATABASE_URLS"]["billing"])
    with Session(engine) as s:  # marked told: the next rounds of the timer pass it by
        assert s.scalar(select(Entitlement.reminded_at).where(Entitlement.operator_id == workshop.operator_id))
    engine.dispose()


def test_a_lost_second_factor_is_reset_and_enrolled_again(api, workshop):
    from tests.e2e.test_users import invite, join
    invitation = invite(api, workshop, "ada@werkstatt-mueller.de", "admin").json()
    ada = join(api, invitation)
    ada_id = invitation["user"]["id"]
    path = f"/api/v1/operators/{workshop.operator_id}/users"
    not_the_owner = api("POST", f"{path}/{workshop.user_id}/second-factor/reset", ada["access_token"])
    assert not_the_owner.status_code == 403 and error(not_the_owner)["code"] == "ROLE_NOT_ALLOWED"
    reset = api("POST", f"{path}/{ada_id}/second-factor/reset", workshop.token)
    assert reset.status_code == 200 and reset.json()["second_factor"] == "none"
    login = api("POST", "/api/v1/auth/login", json={"email": "ada@werkstatt-mueller.de",
                                                    "password": "Zuendkerze-Wechsel-77"})
    assert login.status_code == 200 and login.json()["next"] == "enrol"  # she sets up a new phone
    own = api("POST", f"{path}/{workshop.user_id}/second-factor/reset", workshop.token)
    assert own.status_code == 403 and error(own)["code"] == "RECOVERY_SIGN_IN_REQUIRED"
    first = api("POST", "/api/v1/auth/login", json={"email": workshop.email, "password": STRONG}).json()
    rescued = api("POST", "/api/v1/auth/totp", json={"challenge": first["challenge"],
                                                     "recovery_code": workshop.recovery_codes[0]}).json()
    mine = api("POST", f"{path}/{workshop.user_id}/second-factor/reset", rescued["access_token"])
    assert mine.status_code == 200  # the only owner, phone lost: a recovery code lets her start over
    again = api("POST", "/api/v1/auth/login", json={"email": workshop.email, "password": STRONG})
    assert again.json()["next"] == "enrol"
