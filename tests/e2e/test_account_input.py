"""What people type when they register or join: long passwords from a password manager work, look-alike and
re-cased addresses are the same address or refused, and names carry no control or direction-changing
characters. Each refusal names the field and the rule, and nothing is stored."""
import time

import pytest

from tests.e2e.conftest import error, register as registered, registration
from tests.e2e.test_users import invite
from tests.helpers import eventually


def register(api, email="meister@werkstatt-mueller.de", vat_id=None, **owner):
    return api("POST", "/api/v1/operators", json=registration(email, vat_id, **owner))


@pytest.mark.parametrize("length", [73, 128, 200, 256])
def test_a_password_managers_long_password_works(api, length):
    password = ("Kurbelwelle-Lager-7" * 20)[:length]
    assert registered(api, vat_id=None, password=password)  # confirmed, then signed in with it: enrolment next


def test_a_password_over_256_characters_is_refused_naming_the_field(api):
    answer = register(api, password="K" * 257)
    assert answer.status_code == 422 and "owner.password" in error(answer)["message"]


def test_an_invited_user_may_choose_a_long_password(api, workshop):
    invitation = invite(api, workshop, "tom@werkstatt-mueller.de", "technician").json()
    accepted = api("POST", "/api/v1/auth/invitations/accept",
                   json={"token": invitation["invitation_token"], "password": ("Zuendkerze-Wechsel-77" * 10)[:150]})
    assert accepted.status_code == 200, accepted.text


@pytest.mark.parametrize("password", ["meister@werkstatt-mueller.de", "my-meister@werkstatt-mueller.de-2026!"])
def test_a_password_that_is_or_holds_the_email_is_refused(api, password):
    answer = register(api, password=password)
    assert answer.status_code == 422
    assert error(answer)["details"] == {"field": "owner.password", "rule": "not_the_email"}


def test_an_address_differing_only_in_case_or_width_is_the_same_account(api):
    started = time.time_ns()
    assert register(api).status_code == 202
    for same in ("Meister@Werkstatt-Mueller.DE", " MEISTER@werkstatt-mueller.de ", "ｍｅｉｓｔｅｒ@werkstatt-mueller.de"):
        again = register(api, email=same)
        assert again.status_code == 202 and again.json()["sent_to"] == "meister@werkstatt-mueller.de", same
    # the account's owner is told each time; one account, one link to confirm it
    told = lambda subject: api.mailbox.mails("meister@werkstatt-mueller.de", started, subject)  # noqa: E731
    eventually(lambda: len(told("registrieren")) == 3, what="three mails to the account's owner")
    assert len(told("Bestätigen")) == 1


@pytest.mark.parametrize("look_alike", ["mеister@werkstatt-mueller.de",  # Cyrillic е in the name
                                        "meister@wеrkstatt-mueller.de"])  # and in the domain
def test_a_mixed_script_look_alike_address_is_refused(api, look_alike):
    assert register(api).status_code == 202
    answer = register(api, email=look_alike)
    assert answer.status_code == 422 and "owner.email" in error(answer)["message"]
    assert "alphabets" in str(error(answer)["details"]["fields"]["owner"]["email"])


def test_an_address_in_one_other_alphabet_is_an_address(api):
    answer = register(api, email="мастер@мастерская.рф")
    assert answer.status_code == 202, answer.text
    assert answer.json()["sent_to"] == "мастер@xn--80aaouh0afcg9k.xn--p1ai"


@pytest.mark.parametrize("name", ["Anna\x00Müller", "Anna\nMüller", "Anna\u202eMüller", "Anna\u2066Müller\u2069"])
def test_control_and_direction_characters_are_refused_in_every_name(api, workshop, name):
    owner = register(api, email="x@werkstatt-nord.de", name=name)
    assert owner.status_code == 422 and "name" in error(owner)["details"]["fields"]["owner"]
    body = registration("y@werkstatt-nord.de", None)
    body["operator"]["legal_name"] = name
    company = api("POST", "/api/v1/operators", json=body)
    assert company.status_code == 422 and "legal_name" in error(company)["details"]["fields"]["operator"]
    invited = invite(api, workshop, "z@werkstatt-mueller.de", "technician", name=name)
    assert invited.status_code == 422 and "name" in error(invited)["details"]["fields"]
    agent = api("POST", "/api/v1/agents", workshop.token, json={"name": name})
    assert agent.status_code == 422 and "name" in error(agent)["details"]["fields"]
    users = api("GET", f"/api/v1/operators/{workshop.operator_id}/users", workshop.token).json()["users"]
    assert [u["email"] for u in users] == [workshop.email]  # nothing was stored
