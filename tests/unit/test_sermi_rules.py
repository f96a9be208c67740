"""What makes a trust centre's answer a SERMI authorisation of this workshop's technician (domain.sermi_refusal,
domain.sermi_fresh), and the ID token checks of the trust-centre adapter: a token signed by another key, for
another audience, expired, or carrying another sign-in's nonce is refused."""
import time
from datetime import datetime, timedelta, timezone

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from deploy.trust_centre import technician
from services.identity import domain
from services.identity.sermi import TrustCentre
from services.shared.errors import Unauthenticated

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)
VAT = "DE136695976"


def claims(**changes):
    found = {k: v for k, v in technician(VAT, "SERMI-DE-0001").items() if k != "revoked"}
    return {"sub": "tech-anna", "auth_time": int(NOW.timestamp()), **found, **changes}


def test_the_workshop_s_own_technician_is_authorised_whatever_the_vat_id_s_spacing():
    assert domain.sermi_refusal(claims(), "de 136 695 976", NOW) is None


@pytest.mark.parametrize("changed, code", [
    ({"iouid": {"name": "Garage Dupont", "vat_id": "FR40303265045"}}, "SERMI_WORKSHOP_MISMATCH"),
    ({"cabuid": None}, "SERMI_CLAIMS_MISSING"),
    ({"ioeuid": {"country": "DE", "body": "DE-CAB-0042"}}, "SERMI_CLAIMS_MISSING"),
    ({"auth_time": None}, "SERMI_AUTH_TIME_MISSING"),
    ({"chain": {"accepted_at": (NOW - timedelta(hours=25)).isoformat()}}, "SERMI_CHAIN_EXPIRED"),
    ({"chain": {"accepted_at": "yesterday"}}, "SERMI_CHAIN_INVALID"),
])
def test_what_does_not_authorise_is_named(changed, code):
    assert domain.sermi_refusal(claims(**changed), VAT, NOW).code == code


def test_a_chain_authorisation_is_honoured_for_24_hours_and_a_workshop_without_vat_id_is_refused():
    assert domain.sermi_refusal(claims(chain={"accepted_at": (NOW - timedelta(hours=23)).isoformat()}), VAT,
                                NOW) is None
    assert domain.sermi_refusal(claims(), None, NOW).code == "SERMI_WORKSHOP_NO_VAT_ID"


def test_a_sign_in_at_the_trust_centre_is_fresh_for_15_minutes():
    assert domain.sermi_fresh(NOW - timedelta(minutes=15), NOW)
    assert not domain.sermi_fresh(NOW - timedelta(minutes=15, seconds=1), NOW)


ISSUER, KEY, OTHER = "http://trust.test", RSAKey.generate_key(2048), RSAKey.generate_key(2048)


@pytest.fixture
def centre(monkeypatch):
    found = TrustCentre(ISSUER, "aos", "http://portal.test/api/v1/sermi/callback")
    monkeypatch.setattr(found, "_key_set", lambda fresh: KeySet([KEY]))  # the trust centre's published keys
    return found


def id_token(key=KEY, **changes):
    now = int(time.time())
    body = {"iss": ISSUER, "aud": "aos", "sub": "tech-anna", "nonce": "n-1", "iat": now, "exp": now + 300} | changes
    return jwt.encode({"alg": "RS256"}, body, key)


def test_the_trust_centre_s_own_id_token_for_this_sign_in_holds(centre):
    assert centre.id_claims(id_token(), "n-1", datetime.now(timezone.utc))["sub"] == "tech-anna"


@pytest.mark.parametrize("forged", [
    lambda: id_token(key=OTHER),  # signed with another key
    lambda: id_token(aud="someone-else"),
    lambda: id_token(iss="http://elsewhere.test"),
    lambda: id_token(exp=int(time.time()) - 120),  # expired
    lambda: id_token(nonce="n-0"),  # another sign-in's (a replay)
    lambda: id_token()[:-6] + "AAAAAA",
    lambda: "not a token",
])
def test_a_forged_wrong_or_replayed_id_token_is_refused(centre, forged):
    with pytest.raises(Unauthenticated) as refused:
        centre.id_claims(forged(), "n-1", datetime.now(timezone.utc))
    assert refused.value.code == "SERMI_ID_TOKEN_INVALID"
