"""Identity's rules without a broker or database: VAT ids, passwords, TOTP, recovery codes, throttling, and what
identity refuses (links, tokens, owners, SERMI answers)."""
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace as Row

import pyotp
import pytest

from services.identity import domain
from services.shared.errors import AosError, InvalidInput

NOW = datetime(2026, 11, 23, 12, 0, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("country, vat_id, compact", [
    ("DE", "DE136695976", "DE136695976"),
    ("DE", "de 136 695 976", "DE136695976"),
    ("FR", "FR40303265045", "FR40303265045"),
    ("GR", "EL094259216", "EL094259216"),
    ("NL", "NL004495445B01", "NL004495445B01"),
])
def test_valid_vat_ids_are_accepted_in_compact_form(country, vat_id, compact):
    assert domain.check_vat_id(country, vat_id) == compact


@pytest.mark.parametrize("country, vat_id, code, rule", [
    ("DE", "DE136695977", "INVALID_VAT_ID", "checksum"),
    ("DE", "DE13669597", "INVALID_VAT_ID", "format"),
    ("DE", "FR40303265045", "VAT_ID_COUNTRY_MISMATCH", "country_prefix"),
    ("GR", "GR094259216", "VAT_ID_COUNTRY_MISMATCH", "country_prefix"),
    ("CH", "CHE-123.456.788", "VAT_ID_NOT_EU", "eu_country"),
])
def test_invalid_vat_ids_name_the_rule_they_break(country, vat_id, code, rule):
    with pytest.raises(InvalidInput) as raised:
        domain.check_vat_id(country, vat_id)
    assert raised.value.code == code
    assert raised.value.details == {"field": "operator.vat_id", "rule": rule}


def test_no_vat_id_is_allowed():
    assert domain.check_vat_id("DE", None) is None


@pytest.mark.parametrize("password, rule", [
    ("short1!", "min_length"),
    ("x" * 257, "max_length"),  # up to 256: a password manager's
    ("Qwerty123456", "common_password"),
    ("1234567890123", "guessable"),
    ("mueller123456", "guessable"),
])
def test_weak_passwords_are_refused_with_the_rule(password, rule):
    with pytest.raises(InvalidInput) as raised:
        domain.check_password(password, related=("anna.mueller@werkstatt.de", "Anna Mueller"))
    assert raised.value.code == "WEAK_PASSWORD"
    assert raised.value.details["rule"] == rule
    assert raised.value.details["field"] == "password"


def test_a_long_unusual_password_passes():
    domain.check_password("Bremsscheibe-Drehmoment-42", related=("anna@werkstatt.de",))


def test_argon2id_hashes_verify_and_unknown_accounts_fail_alike():
    passwords = domain.Passwords()
    stored = passwords.hash("Bremsscheibe-Drehmoment-42")
    assert stored.startswith("$argon2id$")
    assert passwords.verify(stored, "Bremsscheibe-Drehmoment-42")
    assert not passwords.verify(stored, "Bremsscheibe-Drehmoment-43")
    assert not passwords.verify(None, "Bremsscheibe-Drehmoment-42")
    assert not passwords.verify_absent("anything")


def test_totp_accepts_one_step_either_side_and_refuses_replays():
    secret = pyotp.random_base32()
    totp = pyotp.TOTP(secret)
    step = totp.timecode(NOW)
    assert domain.totp_step(secret, totp.at(NOW), 0, NOW) == step
    assert domain.totp_step(secret, totp.at(NOW - timedelta(seconds=30)), 0, NOW) == step - 1
    assert domain.totp_step(secret, totp.at(NOW + timedelta(seconds=30)), 0, NOW) == step + 1
    assert domain.totp_step(secret, totp.at(NOW - timedelta(seconds=60)), 0, NOW) is None
    assert domain.totp_step(secret, totp.at(NOW), step, NOW) == -step, "a used step is a replay"
    assert domain.totp_step(secret, totp.at(NOW - timedelta(seconds=30)), step, NOW) == -(step - 1)
    assert domain.totp_step(secret, "12345", 0, NOW) is None
    assert domain.totp_step(secret, "abcdef", 0, NOW) is None


def test_totp_enrolment_material():
    secret = domain.new_totp_secret()
    uri = domain.totp_uri(secret, "anna@werkstatt.de")
    assert uri.startswith("otpauth://totp/AOS:anna%40werkstatt.de?secret=" + secret)
    svg = domain.qr_svg(uri)
    assert svg.startswith("<svg") and "path" in svg


def test_recovery_codes_are_ten_distinct_and_typed_loosely():
    codes = domain.new_recovery_codes()
    assert len(codes) == 10 == len(set(codes))
    assert all(len(c) == 14 and c.count("-") == 2 for c in codes)
    assert domain.normalise_recovery_code(codes[0].lower().replace("-", " ")) == codes[0]


def test_a_full_counter_waits_for_its_window_to_end():
    assert domain.retry_after(NOW - timedelta(seconds=100), 900, NOW) == 800
    assert domain.retry_after(NOW - timedelta(seconds=899.5), 900, NOW) == 1  # never 0: it is full now


def test_a_known_device_is_counted_apart_from_the_address_and_the_account_elsewhere():
    assert domain.throttle_keys("anna@x.de", "10.0.0.7") == [("pair:anna@x.de|10.0.0.7", "account"),
                                                            ("address:10.0.0.7", "address")]
    assert domain.throttle_keys("anna@x.de", "10.0.0.7", "d-1") == [("device:d-1", "account")]


def test_failures_elsewhere_slow_an_account_down_but_never_lock_it():
    assert [domain.slowdown_seconds(n, 5) for n in (0, 5, 6, 7, 8, 20)] == [0, 0, 0.5, 1.0, 2.0, 8.0]


# ---- what identity refuses, as plain rules ----

T = datetime(2026, 12, 5, 9, 0, tzinfo=timezone.utc)


def refused(call, *args):
    try:
        call(*args)
    except AosError as error:
        return error.code
    return None


def test_a_slowed_account_answers_at_once_with_how_long_to_wait():
    assert domain.sign_in_wait(None, T) == 0 and domain.sign_in_wait(T - timedelta(seconds=1), T) == 0
    assert domain.sign_in_wait(T + timedelta(seconds=3.2), T) == 4  # whole seconds, rounded up
    assert domain.slowed_until(5, 5, T) is None  # the free failures slow nobody
    assert domain.slowed_until(6, 5, T) == T + timedelta(seconds=0.5)
    assert domain.slowed_until(40, 5, T) == T + timedelta(seconds=domain.MAX_SLOWDOWN_SECONDS)


def test_a_new_workshop_signs_in_once_its_address_is_confirmed_and_a_failure_tells_nothing():
    unconfirmed = Row(active=True, email_verified_at=None)
    assert not domain.signs_in(unconfirmed, enrolled=False) and domain.signs_in(unconfirmed, enrolled=True)
    assert domain.signs_in(Row(active=True, email_verified_at=T), enrolled=False)
    assert not domain.signs_in(Row(active=False, email_verified_at=T), enrolled=True)
    assert domain.login_failed().message == "Login failed"


def test_a_reset_link_works_once_within_its_life_for_an_active_user():
    user, link = Row(active=True), Row(used_at=None, expires_at=T + timedelta(minutes=1))
    assert refused(domain.require_reset_link, link, user, T) is None
    for bad_link, bad_user in ((None, user), (Row(used_at=T, expires_at=link.expires_at), user),
                               (Row(used_at=None, expires_at=T), user), (link, Row(active=False))):
        assert refused(domain.require_reset_link, bad_link, bad_user, T) == "RESET_LINK_INVALID"


def test_a_refresh_token_rotates_once_and_a_copy_ends_the_session():
    assert refused(domain.require_refresh_token, None, T) == "REFRESH_TOKEN_INVALID"
    assert refused(domain.require_refresh_token, Row(revoked_at=None, expires_at=T), T) == "REFRESH_TOKEN_EXPIRED"
    assert domain.refresh_outcome(rotated=True, active=True) is None
    assert domain.refresh_outcome(rotated=False, active=True).code == "REFRESH_TOKEN_REUSED"
    assert domain.refresh_outcome(rotated=True, active=False).code == "USER_INACTIVE"


def test_the_last_active_owner_stays():
    owner = Row(role="owner")
    assert domain.demotes_owner(owner, {"active": False}) and domain.demotes_owner(owner, {"role": "admin"})
    assert not domain.demotes_owner(owner, {"spending": {}}) and not domain.demotes_owner(Row(role="admin"),
                                                                                          {"active": False})
    assert refused(domain.require_an_owner_left, True, 1) == "LAST_OWNER"
    assert refused(domain.require_an_owner_left, True, 2) is None


def test_a_totp_code_is_refused_as_reused_or_wrong_and_enrolment_goes_in_order():
    assert domain.code_refused(7, "code").code == "TOTP_CODE_REUSED"
    assert domain.code_refused(None, "code").details == {"field": "code", "rule": "totp"}
    assert refused(domain.require_enrolment_started, None) == "TOTP_NOT_STARTED"
    assert refused(domain.require_enrolment_started, Row(confirmed_at=T)) == "TOTP_ALREADY_ENROLLED"
    assert refused(domain.require_enrolment_started, Row(confirmed_at=None)) is None


def test_a_sermi_answer_is_taken_only_in_the_browser_that_started_it_and_work_needs_a_fresh_confirmed_link():
    bound = domain.digest("browser-secret")
    assert domain.sermi_answer_refusal(bound, "browser-secret", None) is None
    assert domain.sermi_answer_refusal(bound, "another", None).code == "SERMI_OTHER_BROWSER"
    assert domain.sermi_answer_refusal(bound, None, None).code == "SERMI_OTHER_BROWSER"
    assert domain.sermi_answer_refusal(bound, "browser-secret", "access_denied").code == "SERMI_SIGN_IN_FAILED"
    asked = []
    fresh = Row(authenticated_at=T - timedelta(minutes=5))
    assert domain.sermi_work_refusal(None, lambda: asked.append(1), T).code == "SERMI_NOT_LINKED"
    assert domain.sermi_work_refusal(Row(authenticated_at=T - timedelta(minutes=16)), lambda: asked.append(1),
                                     T).code == "SERMI_LOGIN_STALE"
    assert asked == []  # the trust centre is asked only when the rest holds
    assert domain.sermi_work_refusal(fresh, lambda: False, T).code == "SERMI_REVOKED"
    assert domain.sermi_work_refusal(fresh, lambda: True, T) is None
