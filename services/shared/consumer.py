"""Consuming events: validate against the contract, then hand the handler an Event.

`@consumes(BILLING["AccessPurchased"])` (the fact's registration, from its owner's contracts) subscribes to the
owner's exchange; a body that does not match its contract is dropped, logged and counted, never handled. Handlers make their effects idempotent with
`Store.first_delivery(event)`. `@consumes_batch(...)` hands the handler a list of Events, those that arrived together
(services.shared.queues.BatchEventHandler), made idempotent with `Store.first_deliveries(events)`.
"""
import functools
from datetime import datetime, timezone
import logging

from prometheus_client import Counter

from services.shared import events, metrics
from services.shared.queues import batch_event_handler, event_handler

log = logging.getLogger(__name__)

REJECTED = Counter("aos_events_rejected_total", "Events dropped because they broke their contract",
                   ["service", "event_type"])


def _checked(service, registration, body):
    """The body as an Event, or None when it breaks its contract (dropped, logged and counted)."""
    try:
        event = events.parse(body, registration)
    except events.InvalidEvent as exc:
        REJECTED.labels(service, registration.name).inc()
        log.warning("%s dropped an invalid %s: %s", service, registration.name, exc)
        return None
    metrics.labelled(metrics.CONSUMER_LAG, service, registration.name).observe(
        max(0.0, (datetime.now(timezone.utc) - event.time).total_seconds()))
    return event


def consumes(registration, **handler_options):
    def decorate(method):
        @functools.wraps(method)
        def handle(self, body):
            event = _checked(self.name, registration, body)
            return None if event is None else method(self, event)
        return event_handler(registration.owner, registration.name, **handler_options)(handle)
    return decorate


def consumes_batch(registration, **handler_options):
    def decorate(method):
        @functools.wraps(method)
        def handle(self, bodies):
            batch = [e for e in (_checked(self.name, registration, body) for body in bodies) if e is not None]
            return method(self, batch) if batch else None
        return batch_event_handler(registration.owner, registration.name, **handler_options)(handle)
    return decorate
