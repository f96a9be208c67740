"""Services trust a caller only with proof: a process that reaches the broker and calls a service directly, with
any actor it likes, is refused unless it carries an access token identity signed, and then acts only as that
token's user (the fields it hands are not believed)."""
import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from services.shared.errors import Forbidden, Unauthenticated
from tests.e2e.conftest import Workshop, top_up
from tests.helpers import eventually


def test_a_direct_rpc_without_a_valid_token_acts_for_nobody(api, system):
    victim = Workshop(api, vat_id=None)
    eventually(lambda: top_up(api, victim, 5000).status_code == 201, what="billing to know the workshop")
    intruder = Workshop(api, email="chef@autohaus-beispiel.de", vat_id=None)
    forged = {"user_id": victim.user_id, "operator_id": victim.operator_id, "role": "owner",
              "email_verified": True}
    with ClusterRpcProxy({"AMQP_URI": system["AMQP_URI"]}, timeout=30) as aos:
        for handed in (forged, forged | {"token": "not.a.token"}, forged | {"token": victim.token[:-4] + "AAAA"}):
            with pytest.raises(Unauthenticated):
                aos.billing.credit(handed)
            with pytest.raises(Unauthenticated):
                aos.identity.list_users(handed, victim.operator_id)
        # the intruder's own token with the victim's names handed beside it: it acts as the intruder
        own = aos.billing.credit(forged | {"token": intruder.token})
        assert own["balance_cents"] == 0
        with pytest.raises(Forbidden):
            aos.identity.list_users(forged | {"token": intruder.token}, victim.operator_id)
        # the victim's token proves the victim
        assert aos.billing.credit({"token": victim.token})["balance_cents"] == 5000


def test_a_user_s_own_account_rpcs_act_only_for_the_token_s_user_and_its_login(api, system):
    victim = Workshop(api, vat_id=None)
    intruder = Workshop(api, email="chef@autohaus-beispiel.de", vat_id=None)
    with ClusterRpcProxy({"AMQP_URI": system["AMQP_URI"]}, timeout=30) as aos:
        # the bare user id the gateway once handed over no longer makes anybody
        for call in (lambda: aos.identity.me(victim.user_id), lambda: aos.identity.me({"user_id": victim.user_id}),
                     lambda: aos.identity.passkeys({"user_id": victim.user_id}),
                     lambda: aos.identity.start_totp_enrolment({"user_id": victim.user_id}),
                     lambda: aos.identity.resend_verification({"user_id": victim.user_id})):
            with pytest.raises(Unauthenticated):
                call()
        assert aos.identity.me({"user_id": victim.user_id, "token": intruder.token})["user"]["id"] == intruder.user_id
        # signing out ends the token's own login, whatever session or user is named beside it
        aos.identity.logout({"user_id": victim.user_id, "session_id": "whatever", "token": intruder.token}, {})
    assert api("GET", "/api/v1/me", victim.token).status_code == 200
    eventually(lambda: api("GET", "/api/v1/me", intruder.token).status_code == 401, what="the intruder signed out")


def test_staff_rpcs_act_only_on_a_staff_token_signed_with_operations_key(system, token_keys):
    from services.shared.tokens import staff_token as sign
    from tests.e2e.conftest import staff_token
    alien = token_keys[0].read_bytes()  # identity's key is not operations' key
    with ClusterRpcProxy({"AMQP_URI": system["AMQP_URI"]}, timeout=30) as aos:
        for token in (sign(alien, "anna.berger@aos.example", 600), staff_token(system, ttl=-5),
                      staff_token(system, ttl=24 * 3600), "not.a.token"):
            with pytest.raises(Forbidden) as refused:
                aos.billing.check_books(token)
            assert "STAFF_ONLY" in str(refused.value)
        with pytest.raises(Unauthenticated):
            aos.shop.mark_delivered(None, "o-1")
        assert aos.billing.check_books(staff_token(system))["balanced"] is True
