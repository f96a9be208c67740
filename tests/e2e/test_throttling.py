"""Throttling that an attacker cannot turn against the owner: a lock for an account at the attacker's address, a
lock for an address spraying many accounts, a slowdown (never a lock) for the account elsewhere, and a device
the owner signed in on before that failures elsewhere do not touch. Attempts are taken before the password is
checked: concurrent guesses get no more checks than allowed."""
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.e2e.conftest import STRONG, Workshop, error

WRONG = "Falsches-Passwort-99"


def login(api, email, password=STRONG, address=None, device_token=None):
    headers = {"X-Forwarded-For": address} if address else {}
    return api("POST", "/api/v1/auth/login", headers=headers,
               json={"email": email, "password": password, "device_token": device_token})


def sign_in(api, workshop, address=None, device_token=None, recovery_code=None):
    """Password and second factor: the next TOTP code, or a recovery code (a second sign-in within one step)."""
    first = login(api, workshop.email, address=address, device_token=device_token)
    assert first.status_code == 200, first.text
    factor = {"recovery_code": recovery_code} if recovery_code else {"code": workshop.code(1)}
    second = api("POST", "/api/v1/auth/totp", headers={"X-Forwarded-For": address} if address else {},
                 json={"challenge": first.json()["challenge"], "device_token": device_token, **factor})
    assert second.status_code == 200, second.text
    return second.json()


@pytest.mark.config(AOS_TRUSTED_PROXIES="127.0.0.1")
def test_an_attacker_elsewhere_cannot_lock_the_owner_out_of_a_known_device(api, workshop):
    device = sign_in(api, workshop, address="198.51.100.10")["device_token"]  # the owner's PC, seen before
    for _ in range(5):
        assert login(api, workshop.email, WRONG, address="203.0.113.66").status_code == 401
    locked = login(api, workshop.email, address="203.0.113.66")  # the attacker, even with the right password
    assert locked.status_code == 429 and error(locked)["code"] == "LOGIN_THROTTLED"
    for _ in range(5):
        login(api, workshop.email, WRONG, address="203.0.113.67")  # more guesses from a second address
    again = sign_in(api, workshop, address="198.51.100.10", device_token=device,
                    recovery_code=workshop.recovery_codes[0])
    assert again["access_token"] and again["device_token"]


@pytest.mark.config(AOS_TRUSTED_PROXIES="127.0.0.1")
def test_a_busy_address_does_not_stop_a_new_workshop_from_enrolling(api):
    for i in range(20):
        login(api, f"guess{i}@werkstatt.de", WRONG, address="192.0.2.1")
    assert login(api, "guess-next@werkstatt.de", WRONG, address="192.0.2.1").status_code == 429
    newcomer = Workshop(api, email="neu@werkstatt-sued.de", vat_id=None)  # enrols TOTP from that same address
    assert api("GET", "/api/v1/me", newcomer.token).status_code == 200


def test_an_address_written_by_the_client_is_not_believed(api, workshop):
    """Without trusted proxies, X-Forwarded-For is the client's word: a new value each try escapes nothing."""
    for i in range(5):
        assert login(api, workshop.email, WRONG, address=f"10.9.8.{i}").status_code == 401
    assert login(api, workshop.email, address="10.9.8.99").status_code == 429


def test_thirty_concurrent_guesses_get_exactly_the_allowed_five_checks(api, workshop):
    def guess(_):
        return requests.post(api.base + "/api/v1/auth/login", json={"email": workshop.email, "password": WRONG},
                             timeout=60)
    with ThreadPoolExecutor(30) as pool:
        answers = list(pool.map(guess, range(30)))
    codes = sorted(a.status_code for a in answers)
    assert codes.count(401) == 5 and codes.count(429) == 25, codes


def test_a_challenge_works_once(api, workshop):
    challenge = login(api, workshop.email).json()["challenge"]
    first = api("POST", "/api/v1/auth/totp", json={"challenge": challenge, "code": workshop.code(1)})
    assert first.status_code == 200
    again = api("POST", "/api/v1/auth/totp", json={"challenge": challenge, "recovery_code": workshop.recovery_codes[0]})
    assert again.status_code == 401 and error(again)["code"] == "CHALLENGE_USED"
    assert error(again)["details"] == {"field": "challenge", "rule": "single_use"}
