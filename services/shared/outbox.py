"""The outbox relay: publishes what a service committed to its outbox table, with publisher confirms.

At least once: a row is marked published only after the broker confirmed it, so a relay killed between commit
and publish, or between publish and mark, publishes again on restart; consumers drop the duplicate by event id.
"""
import json
import logging
import zlib
from contextlib import nullcontext
from collections import OrderedDict
from datetime import datetime, timedelta, timezone

import eventlet
from eventlet.queue import Empty, LightQueue
from nameko.amqp.publish import Publisher
from nameko.standalone.events import get_event_exchange
from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from services.shared import metrics

log = logging.getLogger(__name__)


class OutboxRelay:
    """Green threads of three kinds. Senders: a worker that committed hands its events over in memory
    (`committed`) and they go out at once, `lanes` senders side by side since each publish waits for its
    confirm (one subject's events share a lane and keep their order). The scanner: every `poll_seconds` it reads
    the table for rows older than `grace_seconds` still unpublished and sends them; at start and after a failed
    send it alone sends, in commit order, until the table is empty. The marker: marks in batches what went out.
    Nothing between a commit and the broker waits for the database connection the workers share. Ids sent
    lately are remembered and the grace keeps the scanner off what a sender is about to send, so one event is
    seldom sent twice (and consumers drop it when it is)."""
    batch = 100
    lanes = 8
    grace_seconds = 2.0
    remembered = 10000

    def __init__(self, engine, outbox_model, config, poll_seconds=1.0, service="aos", leases=None):
        self.service = service
        self.leases = leases  # replicas of one service: one scans the table at a time
        self.engine = engine
        self.outbox_model = outbox_model
        self.config = config
        self.poll_seconds = poll_seconds
        self.publisher = Publisher(config["AMQP_URI"], serializer="json", use_confirms=True)
        self._fresh = [LightQueue() for _ in range(self.lanes)]  # committed here, not yet sent; per lane
        self._sent = OrderedDict()  # event id -> confirmed at, oldest first: published by this relay lately
        self._unmarked = LightQueue()  # published, not yet marked in the table
        self._fast = False  # senders send; off at start and after a failed send, until the table is drained
        self._running = False
        # a scan's statements, built once: built anew, each had its cache key computed anew, and the scan runs every
        # poll_seconds in every process, idle or not
        model = outbox_model
        self._waiting = select(func.count()).select_from(model).where(model.published_at.is_(None))
        page = (select(model).where(model.published_at.is_(None), model.created_at < bindparam("before"))
                .order_by(model.created_at, model.id).limit(self.batch))
        self._first_page = page
        # after the last row of the page before: (created_at, id)
        self._next_page = page.where(or_(model.created_at > bindparam("after_at"), and_(
            model.created_at == bindparam("after_at"), model.id > bindparam("after_id"))))

    def publish(self, body):
        """One envelope to its owner's exchange (this service's: its outbox holds its own facts only); returns once
        the broker has confirmed it."""
        exchange = get_event_exchange(self.service, self.config)
        self.publisher.publish(
            body, exchange=exchange, routing_key=body["type"], declare=[exchange],
            message_id=body["id"])  # the json serializer sets content_type application/json

    def committed(self, bodies):
        """A worker's transaction committed these envelopes: send them now."""
        for body in bodies:
            self._fresh[zlib.crc32(str(body.get("subject")).encode()) % self.lanes].put(body)

    def relay_pending(self, grace_seconds=0.0):
        """Publish every unpublished row older than `grace_seconds`, oldest first; returns how many went out."""
        sent, after = 0, None
        before = datetime.now(timezone.utc) - timedelta(seconds=grace_seconds)
        while True:
            # Read a page, then let the connection go before talking to the broker (SQLite has only one).
            with Session(self.engine) as session:
                if after is None:  # a scan's first page: how much is waiting, for the outbox alert
                    metrics.labelled(metrics.OUTBOX_PENDING, self.service).set(session.scalar(self._waiting))
                    page = session.scalars(self._first_page, {"before": before}).all()
                else:
                    page = session.scalars(self._next_page, {"before": before, "after_at": after[0],
                                                             "after_id": after[1]}).all()
                pending = [(row.id, row.body) for row in page]
                after = (page[-1].created_at, page[-1].id) if page else None
            if not pending:
                return sent
            sent += self._send([(event_id, json.loads(body)) for event_id, body in pending], mark_later=False)
            # marked before the next page (and before the scan's lease is let go): another replica's scanner
            # never finds a row this one sent still unmarked
            self.mark_published([event_id for event_id, _ in pending])

    def _send(self, items, mark_later=True):
        for event_id, body in items:
            if event_id not in self._sent:
                self.publish(body)
                confirmed = self._sent[event_id] = datetime.now(timezone.utc)  # when the broker confirmed it
                metrics.labelled(metrics.OUTBOX_LAG, self.service).observe(
                    max(0.0, (confirmed - datetime.fromisoformat(body["time"])).total_seconds()))
                self._forget_oldest()
            if mark_later:
                self._unmarked.put(event_id)
        return len(items)

    def _forget_oldest(self):
        while len(self._sent) > self.remembered:
            self._sent.popitem(last=False)

    def mark_published(self, event_ids):
        """Each row gets the moment its broker confirm came, in one executemany."""
        now = datetime.now(timezone.utc)
        with Session(self.engine) as session, session.begin():
            session.execute(update(self.outbox_model), [
                {"id": event_id, "published_at": self._sent.get(event_id, now)} for event_id in set(event_ids)])

    def start(self, spawn):
        self._running, self._fast = True, False
        for lane in self._fresh:
            spawn(lambda lane=lane: self._sender(lane))
        spawn(self._scanner)
        spawn(self._marker)

    def stop(self):
        self._running = False

    def _drain(self, queue, limit):
        """Wait up to poll_seconds for one item, then take what else is there, up to `limit`."""
        try:
            items = [queue.get(timeout=self.poll_seconds)]
        except Empty:
            return []
        while queue.qsize() and len(items) < limit:
            items.append(queue.get_nowait())
        return items

    def _sender(self, lane):
        while self._running:
            bodies = self._drain(lane, self.batch)
            if not self._fast:
                continue  # the table has them, and the scanner sends in commit order
            try:
                self._send([(body["id"], body) for body in bodies])
            except Exception:  # the broker is away: the rows stay unpublished, the scanner takes over
                self._fast = False
                log.exception("outbox relay could not publish %d fresh events; the scanner will", len(bodies))

    def _scanner(self):
        """At start and after a failed send, the scanner alone sends, everything in commit order, until the
        table is empty: so what was left behind never comes after a newer event. Then the senders take over.
        Among replicas of a service one scanner reads the table at a time (a lease): the others' senders send
        what their own workers commit, and what a dead replica left behind is the lease holder's to send."""
        while self._running:
            try:
                with self._lease() as mine:
                    if not mine:
                        self._fast = True  # another replica's scanner has the table
                    elif self._fast:
                        self.relay_pending(self.grace_seconds)
                    else:
                        self.relay_pending()
                        self._fast = True
            except Exception:  # broker or database away: the rows stay, the next scan tries again
                self._fast = False
                log.exception("outbox relay could not publish; retrying")
            eventlet.sleep(self.poll_seconds)

    def _lease(self):
        return self.leases.held("outbox-scan") if self.leases else nullcontext(True)

    def _marker(self):
        while self._running:
            event_ids = self._drain(self._unmarked, self.batch * 10)
            if not event_ids:
                continue
            try:
                self.mark_published(event_ids)
            except Exception:  # the next scan finds them unpublished, sees them sent, and marks them again
                log.exception("outbox relay could not mark %d published events", len(event_ids))
