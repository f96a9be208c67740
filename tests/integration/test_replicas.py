"""Two replicas of a service on one database: a lease is held by one replica at a time and let go when that
replica dies; a timer's tick runs on one replica; two outbox relays drain a backlog and every event reaches the
broker once."""
import json
import signal
import subprocess
import sys
import uuid
from datetime import datetime, timezone

import eventlet
import eventlet.event
import pytest
from kombu import Connection, Queue
from nameko.standalone.events import get_event_exchange
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from services.billing.models import OutboxMessage
from services.catalogue import CATALOGUE
from services.shared import events
from services.shared.database import make_engine
from services.shared.lease import Leases
from services.shared.outbox import OutboxRelay
from tests.helpers import eventually

pytestmark = pytest.mark.both_databases  # leases and the relay's claims

HOLDER = """
import sys, time
from services.shared.database import make_engine
from services.shared.lease import Leases
with Leases(make_engine(sys.argv[1]), "billing").held("clocks") as mine:
    print("held" if mine else "refused", flush=True)
    time.sleep(600)
"""


def holds(leases, name):
    """One tick's question: does this replica hold the lease `name`?"""
    with leases.held(name) as mine:
        return mine


def test_a_lease_is_held_by_one_replica_and_let_go_when_it_dies(database_urls):
    url = database_urls["billing"]
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, url], stdout=subprocess.PIPE, text=True)
    leases = Leases(make_engine(url), "billing")
    try:
        assert holder.stdout.readline().strip() == "held"
        with leases.held("clocks") as mine:
            assert mine is False  # the other replica has it
        with leases.held("another-timer") as mine:
            assert mine is True  # leases are by name
        holder.send_signal(signal.SIGKILL)  # a replica dies mid-tick: no clean-up
        holder.wait()

        eventually(lambda: holds(leases, "clocks"), timeout=10, what="the dead replica's lease to be let go")
        with leases.held("clocks") as first:
            with Leases(make_engine(url), "billing").held("clocks") as second:
                with leases.held("clocks") as again:  # and by one green thread at a time within a replica
                    assert (first, second, again) == (True, False, False)
    finally:
        holder.kill()
        leases.close()


@pytest.mark.parametrize("database_urls", ["postgresql"], indirect=True)  # SQLite's lease lasts one block
def test_a_lease_stays_with_its_holder_from_tick_to_tick_until_its_replica_stops(database_urls):
    url = database_urls["billing"]
    first, second = Leases(make_engine(url), "billing"), Leases(make_engine(url), "billing")
    assert [holds(leases, "clocks") for _ in range(5) for leases in (first, second)] == [True, False] * 5
    first.close()  # its service stops
    assert holds(second, "clocks") is True
    assert holds(first, "clocks") is False  # started again: the lease is the other replica's now
    second.close()
    first.close()


@pytest.mark.parametrize("database_urls", ["postgresql"], indirect=True)
def test_a_holder_whose_connection_is_cut_gives_its_lease_up(database_urls):
    """The database ends the holder's session (a failover, an operator): its lock is gone at once, so another
    replica may take it at its next tick, and the old holder, finding its connection closed, asks again on a new
    one and is refused rather than running the tick beside it."""
    url = database_urls["billing"]
    first, second = Leases(make_engine(url), "billing"), Leases(make_engine(url), "billing")
    assert holds(first, "clocks") is True
    admin = make_engine(url)
    with admin.connect() as connection:
        cut = connection.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = 'advisory' "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")).scalar()
        connection.commit()
    assert cut == 1
    eventually(lambda: holds(second, "clocks"), timeout=10, what="the cut holder's lock to be let go")
    assert holds(first, "clocks") is False
    second.close()
    assert holds(first, "clocks") is True
    first.close()
    admin.dispose()


def test_a_timer_tick_runs_on_one_replica(database_urls):
    """Two replicas tick together 20 times; each tick's body runs once, on whichever replica got the lease."""
    from services.shared.lease import one_replica

    ran = []

    class Replica:
        def __init__(self, name):
            self.name = name
            self.db = type("Db", (), {"once": Leases(make_engine(database_urls["billing"]), "billing").held})()

        @one_replica("tick")
        def tick(self, barrier):
            ran.append(self.name)
            barrier.wait()  # both replicas are inside their tick at the same moment

    replicas = [Replica("a"), Replica("b")]
    for _ in range(20):
        barrier = eventlet.event.Event()
        threads = [eventlet.spawn(r.tick, barrier) for r in replicas]
        eventlet.sleep(0.05)
        barrier.send(True)
        for thread in threads:
            thread.wait()
    assert len(ran) == 20


def backlog(url, count):
    """`count` events committed and never published (their replica died before its relay ran)."""
    engine = make_engine(url)
    now = datetime.now(timezone.utc)
    with Session(engine) as s, s.begin():
        for i in range(count):
            body = events.envelope(CATALOGUE["AccessExpired"], {"operator_id": "op-1", "entitlement_id": f"ent-{i}",
                                                     "scopes": ["air"], "vin": None, "expired_at": now},
                                   subject="op-1")
            s.add(OutboxMessage(id=body["id"], event_type="AccessExpired", body=json.dumps(body), created_at=now))
    engine.dispose()


def test_two_replicas_relay_a_backlog_once(database_urls, config):
    """Both replicas' relays start over a backlog of 300 events: one scans it (the lease), the other's scanner
    stays off the table, and the broker gets each event once."""
    url = database_urls["billing"]
    backlog(url, 300)
    exchange = get_event_exchange("billing", config)
    with Connection(config["AMQP_URI"]) as connection:
        channel = connection.default_channel
        exchange(channel).declare()
        queue = Queue(f"replicas-{uuid.uuid4().hex[:8]}", exchange=exchange, routing_key="AccessExpired")(channel)
        queue.declare()
        relays = [OutboxRelay(make_engine(url), OutboxMessage, config, poll_seconds=0.05, service="billing",
                              leases=Leases(make_engine(url), "billing")) for _ in range(2)]
        for relay in relays:
            relay.start(eventlet.spawn)
        try:
            engine = make_engine(url)

            def drained():
                with Session(engine) as s:
                    return s.scalar(select(func.count()).select_from(OutboxMessage)
                                    .where(OutboxMessage.published_at.is_(None))) == 0
            eventually(drained, timeout=60, what="the backlog to be relayed")
            eventlet.sleep(1.0)  # both relays go on scanning: a late duplicate would be sent now
        finally:
            for relay in relays:
                relay.stop()
        delivered = []
        while (message := queue.get(no_ack=True)) is not None:
            delivered.append(message.properties["message_id"])
        queue.delete()
    assert len(delivered) == 300 and len(set(delivered)) == 300  # each event on the wire once


def test_one_event_delivered_twice_at_once_takes_effect_once(database_urls):
    """A fact redelivered while its first delivery is still being handled (a consumer lost its channel, a replica
    died after the effect and before its ack): the second waits for the first to commit, finds it handled, and
    changes nothing; neither raises."""
    from sqlalchemy.orm import sessionmaker

    from services.billing.models import ProcessedEvent
    from services.shared.database import Store
    engine = make_engine(database_urls["billing"])
    store = Store(sessionmaker(engine), OutboxMessage, ProcessedEvent, on_commit=lambda emitted: None)
    event = events.parse(json.loads(json.dumps(events.envelope(CATALOGUE["AccessExpired"], {
        "operator_id": "op-1", "entitlement_id": "ent-1", "scopes": ["air"], "vin": None,
        "expired_at": datetime.now(timezone.utc)}, subject="op-1"))), CATALOGUE["AccessExpired"])
    effects = []

    def deliver(name):
        with store.first_delivery(event) as uow:
            if uow is not None:
                effects.append(name)
                eventlet.sleep(0.3)  # the other delivery arrives while this one has not committed

    for thread in [eventlet.spawn(deliver, name) for name in ("one", "other")]:
        thread.wait()
    assert len(effects) == 1, effects  # whichever reached the database first; the other changed nothing
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(ProcessedEvent)) == 1
    engine.dispose()
