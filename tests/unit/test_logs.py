"""Structured logs: one JSON object per line with the correlation id of the worker that logged, taken from an
RPC's headers, an event's envelope or the gateway's request."""
import json
import logging
from datetime import datetime, timezone
from types import SimpleNamespace

from services.catalogue import CATALOGUE
from services.shared import events, logs


def worker(args=(), context=None):
    return SimpleNamespace(args=args, data=dict(context or {}))


def test_a_worker_takes_the_callers_id_from_headers_an_envelope_or_the_request():
    provider = logs.Correlation()
    for ctx, expected in ((worker(context={"correlation_id": "rpc-1"}), "rpc-1"),
                          (worker(args=({"correlationid": "evt-2", "data": {}},)), "evt-2"),
                          (worker(args=(SimpleNamespace(correlation_id="req-3"),)), "req-3")):
        provider.worker_setup(ctx)
        assert logs.current() == expected and ctx.data["correlation_id"] == expected  # passed on by RPC
        provider.worker_teardown(ctx)
    fresh = worker(args=({"correlationid": "no spaces allowed!"},))
    provider.worker_setup(fresh)
    assert len(logs.current()) == 36
    provider.worker_teardown(fresh)
    assert logs.current() is None


def test_each_line_is_json_with_the_id_and_events_carry_it(capsys):
    logs.configure("billing")
    logs.adopt("req-9")
    try:
        logging.getLogger("aos.test").warning("credit low for %s", "op-1")
        envelope = events.envelope(CATALOGUE["CreditIssued"], {"operator_id": "op-1", "credit_id": "c-1", "reason": "outage",
                                                    "issued_at": datetime(2026, 11, 24, 10, tzinfo=timezone.utc)})
    finally:
        logs.adopt(None)
        logging.getLogger().handlers = []
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["message"] == "credit low for op-1" and line["correlation_id"] == "req-9"
    assert line["service"] == "billing" and line["level"] == "WARNING"
    assert envelope["correlationid"] == "req-9" and events.parse(envelope, CATALOGUE["CreditIssued"]).id == envelope["id"]
