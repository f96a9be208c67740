"""Small helpers the test tiers share."""
import json
import time

import eventlet
from kombu import Connection
from nameko.standalone.events import get_event_exchange

from services.shared import events


def eventually(check, timeout=10.0, interval=0.05, what="the condition"):
    """Poll `check` until it returns something truthy; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s (last: {result!r})")
        eventlet.sleep(interval)


def publish_fact(config, event_type, body=None, **data):
    """Put an event on its owner's exchange as that service's relay would: `body` as given, or a fresh envelope
    of `data`. Returns the body."""
    body = body or events.envelope(event_type, data, subject=data.get("operator_id"))
    with Connection(config["AMQP_URI"]) as conn:
        conn.Producer().publish(json.dumps(body), exchange=get_event_exchange(
            events.CATALOGUE[event_type].owner, config), routing_key=event_type, content_type="application/json",
            content_encoding="utf-8")
    return body
