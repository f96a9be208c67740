"""Consuming events: validate against the contract, then hand the handler an Event.

`@consumes(BILLING["AccessPurchased"])` (the fact's registration, from its owner's contracts) subscribes to the
owner's exchange; a body that does not match its contract is dropped, logged and counted, never handled. Handlers make their effects idempotent with
`Store.first_delivery(event)`.
"""
import functools
from datetime import datetime, timezone
import logging

from prometheus_client import Counter

from services.shared import events, metrics
from services.shared.queues import event_handler

log = logging.getLogger(__name__)

REJECTED = Counter("aos_events_rejected_total", "Events dropped because they broke their contract",
                   ["service", "event_type"])


def consumes(registration, **handler_options):
    event_type = registration.name

    def decorate(method):
        @functools.wraps(method)
        def handle(self, body):
            try:
                event = events.parse(body, registration)
            except events.InvalidEvent as exc:
                REJECTED.labels(self.name, event_type).inc()
                log.warning("%s dropped an invalid %s: %s", self.name, event_type, exc)
                return None
            metrics.labelled(metrics.CONSUMER_LAG, self.name, event_type).observe(
                max(0.0, (datetime.now(timezone.utc) - event.time).total_seconds()))
            return method(self, event)
        return event_handler(registration.owner, event_type, **handler_options)(handle)
    return decorate
