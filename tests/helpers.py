"""Small helpers the test tiers share."""
import json
import time

import eventlet
from kombu import Connection
from nameko.standalone.events import get_event_exchange

from services.catalogue import CATALOGUE
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
    body = body or events.envelope(CATALOGUE[event_type], data, subject=data.get("operator_id"))
    with Connection(config["AMQP_URI"]) as conn:
        conn.Producer().publish(json.dumps(body), exchange=get_event_exchange(
            CATALOGUE[event_type].owner, config), routing_key=event_type, content_type="application/json",
            content_encoding="utf-8")
    return body


class Mailbox:
    """What really went over SMTP to the test's catcher, read back as a person would read it."""

    def __init__(self, folder):
        self.folder = folder

    def mails(self, to, since_ns=0, subject=None):
        from deploy import mailcatcher
        return mailcatcher.read(self.folder, to, since_ns, subject)

    def latest(self, to, since_ns=0, subject=None, timeout=10.0):
        found = eventually(lambda: self.mails(to, since_ns, subject), timeout=timeout, what=f"a mail to {to}")
        return found[-1]

    @staticmethod
    def text(message):
        return message.get_body(("plain",)).get_content()

    @staticmethod
    def token(message, route):
        """The token of the link to the portal's `route` in the mail's plain text."""
        import re
        match = re.search(route + r"\?token=([A-Za-z0-9_\-]+)", Mailbox.text(message))
        assert match, f"no {route} link in: {Mailbox.text(message)}"
        return match.group(1)
