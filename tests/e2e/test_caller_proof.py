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
