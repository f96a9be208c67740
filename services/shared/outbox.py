"""The outbox relay: publishes what a service committed to its outbox table, with publisher confirms.

At least once: a row is marked published only after the broker confirmed it, so a relay killed between commit
and publish, or between publish and mark, publishes again on restart; consumers drop the duplicate by event id.
"""
import json
import logging
from datetime import datetime, timezone

import eventlet
from eventlet.event import Event as GreenEvent
from nameko.amqp.publish import Publisher
from nameko.standalone.events import get_event_exchange
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.shared import events

log = logging.getLogger(__name__)


def unpublished(session, outbox_model, limit):
    return session.scalars(
        select(outbox_model).where(outbox_model.published_at.is_(None))
        .order_by(outbox_model.created_at).limit(limit)).all()


class OutboxRelay:
    batch = 100

    def __init__(self, engine, outbox_model, config, poll_seconds=1.0):
        self.engine = engine
        self.outbox_model = outbox_model
        self.config = config
        self.poll_seconds = poll_seconds
        self.publisher = Publisher(config["AMQP_URI"], serializer="json", use_confirms=True)
        self._wakeup = GreenEvent()
        self._running = False

    def publish(self, body):
        """One envelope to its owner's exchange; returns once the broker has confirmed it."""
        exchange = get_event_exchange(events.CATALOGUE[body["type"]].owner, self.config)
        self.publisher.publish(
            body, exchange=exchange, routing_key=body["type"], declare=[exchange],
            message_id=body["id"])  # the json serializer sets content_type application/json

    def relay_pending(self):
        """Publish every unpublished row, oldest first; returns how many went out."""
        sent = 0
        while True:
            # Read, then let the connection go before talking to the broker (SQLite has only one).
            with Session(self.engine) as session:
                pending = [(row.id, row.body) for row in unpublished(session, self.outbox_model, self.batch)]
            if not pending:
                return sent
            for event_id, body in pending:
                self.publish(json.loads(body))
                self.mark_published(event_id)
                sent += 1

    def mark_published(self, event_id):
        model = self.outbox_model
        with Session(self.engine) as session, session.begin():
            session.execute(update(model).where(model.id == event_id).values(published_at=datetime.now(timezone.utc)))

    def wake(self):
        if not self._wakeup.ready():
            self._wakeup.send(True)

    def start(self, spawn):
        self._running = True
        spawn(self._run)

    def stop(self):
        self._running = False
        self.wake()

    def _run(self):
        while self._running:
            try:
                self.relay_pending()
            except Exception:  # broker or database away: keep the rows, try again at the next tick
                log.exception("outbox relay could not publish; retrying")
            with eventlet.Timeout(self.poll_seconds, False):
                self._wakeup.wait()
            self._wakeup = GreenEvent()
