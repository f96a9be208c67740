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
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.billing.models import OutboxMessage
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


def test_a_lease_is_held_by_one_replica_and_let_go_when_it_dies(database_urls):
    url = database_urls["billing"]
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, url], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        leases = Leases(make_engine(url), "billing")
        with leases.held("clocks") as mine:
            assert mine is False  # the other replica has it
        with leases.held("another-timer") as mine:
            assert mine is True  # leases are by name
        holder.send_signal(signal.SIGKILL)  # a replica dies mid-tick: no clean-up
        holder.wait()

        def taken():
            with leases.held("clocks") as got:
                return got
        eventually(taken, timeout=10, what="the dead replica's lease to be let go")
        with leases.held("clocks") as first:  # and held by one at a time within a process too
            with Leases(make_engine(url), "billing").held("clocks") as second:
                assert (first, second) == (True, False)
    finally:
        holder.kill()


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
            body = events.envelope("AccessExpired", {"operator_id": "op-1", "entitlement_id": f"ent-{i}",
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
