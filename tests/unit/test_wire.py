"""What the cheap paths keep: orjson on the wire reads and writes what kombu's codec did (the types it carries,
the bytes a partner reads); a token checked once is still refused when it expires, and a token differing by one
character is checked afresh."""
import uuid
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from types import SimpleNamespace

import pytest
from kombu.serialization import dumps, loads
from kombu.utils import json as kombu_json

from services.shared import wire
from services.shared.errors import Unauthenticated
from services.shared.tokens import TokenSigner, TokenVerifier, generate_keypair

EVERY_TYPE = {"when": datetime(2026, 11, 30, 14, 5, tzinfo=timezone.utc), "day": date(2026, 12, 1),
              "at": time(7, 30), "amount": Decimal("19.99"), "raw": b"\x00\xff", "text": b"plain",
              "nested": [{"due": datetime(2027, 1, 1)}, 1, 2.5, None, True, "Grüße"], "n": 2 ** 62}


def test_kombus_json_is_ours_and_carries_every_type_it_carried():
    content_type, encoding, body = dumps(EVERY_TYPE, "json")
    assert (content_type, encoding) == ("application/json", "utf-8") and isinstance(body, bytes)
    assert loads(body, content_type, encoding) == EVERY_TYPE
    # what kombu's own codec writes, ours reads, and the other way round (a partner on plain kombu)
    assert wire.loads(kombu_json.dumps(EVERY_TYPE).encode()) == EVERY_TYPE
    assert kombu_json.loads(wire.dumps(EVERY_TYPE)) == EVERY_TYPE


def test_what_orjson_refuses_still_encodes_through_kombus_codec():
    odd = {"lone surrogate": "\ud800", "huge": 2 ** 70}  # a client can type the one; Python ints have no bound
    assert wire.loads(wire.dumps(odd)) == odd
    with pytest.raises(TypeError):
        wire.dumps({"set": {1, 2}})  # refused as before: kombu turns it into an EncodeError


def test_a_text_that_only_looks_like_a_marker_stays_text():
    assert wire.loads(wire.dumps({"note": 'the key "__type__" is ours'})) == {"note": 'the key "__type__" is ours'}


@pytest.fixture
def keys(tmp_path):
    generate_keypair(tmp_path / "k.pem", tmp_path / "k.pub.pem")
    return TokenSigner((tmp_path / "k.pem").read_bytes(), 3600), TokenVerifier((tmp_path / "k.pub.pem").read_bytes())


def token(signer, now=None):
    user = SimpleNamespace(id=str(uuid.uuid4()), operator_id="op-1", role="owner")
    return signer.access_token(user, "api", "sid-1", ["pwd", "otp"], datetime.now(timezone.utc), now=now)


def test_a_checked_token_is_remembered_and_still_expires(keys, monkeypatch):
    signer, verifier = keys
    issued = token(signer, now=datetime.now(timezone.utc) - timedelta(seconds=3590))
    assert verifier.verify(issued)["sub"]
    verifier.verify(issued)["sub"] = "someone else"  # a caller's copy: the remembered claims do not change
    assert verifier.verify(issued)["sub"] != "someone else"
    later = __import__("time").time() + 11
    monkeypatch.setattr("services.shared.tokens.time.time", lambda: later)
    with pytest.raises(Unauthenticated) as refused:
        verifier.verify(issued)
    assert refused.value.code == "TOKEN_EXPIRED"


def test_a_token_changed_by_one_character_is_checked_afresh(keys):
    signer, verifier = keys
    good = token(signer)
    verifier.verify(good)
    head, payload, signature = good.split(".")
    forged = ".".join((head, payload, signature[:-2] + ("AA" if signature[-2:] != "AA" else "BA")))
    with pytest.raises(Unauthenticated) as refused:
        verifier.verify(forged)
    assert refused.value.code == "TOKEN_INVALID"


def test_the_verifier_remembers_a_bounded_number_of_tokens(keys, monkeypatch):
    signer, verifier = keys
    monkeypatch.setattr(TokenVerifier, "REMEMBERED", 3)
    for _ in range(5):
        verifier.verify(token(signer))
    assert len(verifier.checked) == 3


def test_an_unconfirmed_reply_leaves_the_confirming_publishers_options_alone(monkeypatch):
    """nameko's publishers share one transport-options dict, which pooled connections keep: a reply that wrote
    confirm_publish=False into it could leave an RPC request waiting for ever for a confirm."""
    from contextlib import contextmanager
    from types import SimpleNamespace

    from nameko.amqp import publish as nameko_publish

    from services.shared import queues

    sent = []

    @contextmanager
    def producer(amqp_uri, confirms, ssl, login_method, transport_options):
        sent.append((confirms, transport_options))
        yield SimpleNamespace(publish=lambda body, **kwargs: sent.append(body))

    monkeypatch.setattr(nameko_publish, "get_producer", producer)
    shared = nameko_publish.Publisher.transport_options
    monkeypatch.setitem(shared, "confirm_publish", True)
    message = SimpleNamespace(properties={"content_type": "application/json", "reply_to": "r-1",
                                          "correlation_id": "c-1"})
    queues.answer({"AMQP_URI": "amqp://guest:guest@127.0.0.1:5672/"}, message, {"ok": True}, None)
    (confirms, options), body = sent
    assert confirms is False and options is not shared and shared["confirm_publish"] is True
    assert loads(body, "application/json", "utf-8") == {"result": {"ok": True}, "error": None}
