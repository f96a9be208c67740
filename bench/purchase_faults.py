"""Fault campaign: purchases while the billing process is SIGKILLed at random moments and RabbitMQ restarts once.

Starts the system (bench.system) and a partner system subscribed to AccessPurchased (bench.watcher). Clients
buy 1 hour of AIR, each purchase with its own Idempotency-Key, and retry with the same key on anything that is
not a final answer (connection refused, 5xx, a timeout), as a workshop's browser would. Meanwhile billing is
killed with SIGKILL at random moments and started again, and once, halfway, RabbitMQ stops and starts
(`rabbitmqctl stop_app` / `start_app`: this affects every user of the local broker for a few seconds).

Afterwards, with the outbox drained, it counts from billing's own tables and the partner's deliveries, and
prints: each accepted purchase has exactly one purchase row, entitlement, ledger journal and invoice, one
distinct AccessPurchased handled by the partner; no purchase exists that no client was told of; every
workshop's credit equals its top-ups less what it was told it paid; the books balance. Exits 1 if any fails.

    python -m bench.purchase_faults [--purchases 300] [--clients 10] [--kills 12] [--database-url ...]
"""
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import ExitStack
from pathlib import Path
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import requests
from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bench import goals, system, watcher
from deploy.ports import reachable, wait_for
from deploy.rabbitmq_cluster import Cluster
from services.billing.models import Entitlement, Invoice, Journal, OutboxMessage, Purchase
from services.shared.database import make_engine

FINAL = {201, 400, 402, 404, 409, 422}  # answers a client does not retry


def buy_until_answered(http, base, token, key, deadline, retries):
    """One purchase, retried with the same key until billing gives a final answer."""
    while time.monotonic() < deadline:
        try:
            answer = system.purchase(http, base, token, key)
            if answer.status_code in FINAL:
                return answer
        except requests.RequestException:
            pass
        retries.update(["retry"])
        time.sleep(0.2)
    raise RuntimeError(f"purchase {key} had no final answer before the deadline")


class Faults(threading.Thread):
    """Kills billing at random moments `kills` times, restarting it each time, and restarts RabbitMQ once when
    half the purchases have been answered (on a cluster: SIGKILLs one node, and starts it again 5 s later)."""

    def __init__(self, running, kills, halfway, cluster=None):
        super().__init__(daemon=True)
        self.running, self.kills, self.halfway, self.cluster = running, kills, halfway, cluster
        self.node_killed = None
        self.done = threading.Event()
        self.killed = 0
        self.broker_restarted = False

    def run(self):
        while not self.done.is_set():
            if self.halfway.is_set() and not self.broker_restarted:
                self.broker_restarted = True
                if self.cluster is not None:
                    self.node_killed = random.randrange(self.cluster.count)
                    self.cluster.kill(self.node_killed)
                    time.sleep(5)
                    self.cluster.restart(self.node_killed)
                else:
                    subprocess.run(["rabbitmqctl", "stop_app"], check=True, capture_output=True)
                    time.sleep(3)
                    subprocess.run(["rabbitmqctl", "start_app"], check=True, capture_output=True)
            if self.killed < self.kills and self.done.wait(random.uniform(0.5, 3.0)) is False:
                victim = self.running.kill_one("billing")
                self.killed += 1
                time.sleep(random.uniform(0.0, 1.0))
                self.running.start(victim)
            elif self.killed >= self.kills:
                self.done.wait(0.2)


def main(argv=None):
    parser = system.parser(__doc__)
    parser.add_argument("--purchases", type=int, default=300)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--kills", type=int, default=12)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--cluster", action="store_true",
                        help="a RabbitMQ cluster of three nodes of the run's own, quorum queues; one node is SIGKILLed")
    opts = parser.parse_args(argv)
    random.seed(opts.seed)
    with ExitStack() as stack:
        cluster = None
        if opts.cluster:
            cluster = stack.enter_context(Cluster(Path(stack.enter_context(tempfile.TemporaryDirectory())),
                                                  port=free_port_block()))
        ok = campaign(opts, cluster)
    sys.exit(0 if ok else 1)


def free_port_block():
    """A base port with the cluster's AMQP ports (base..base+2) and distribution ports (base+100..) free."""
    while True:
        base = random.randrange(20000, 40000)
        if not any(reachable("127.0.0.1", p) for p in (base, base + 1, base + 2, base + 100, base + 101, base + 102)):
            return base


def campaign(opts, cluster):
    per_client = opts.purchases // opts.clients
    env = {"AOS_RPC_TIMEOUT": "4"} | ({"AOS_QUORUM_QUEUES": "true"} if cluster else {})
    with system.running(opts.database_url, extra_env=env, replicas=opts.replicas,
                        broker_uri=cluster.uri() if cluster else None) as running:
        base = running.base
        deliveries = running.watch("AccessPurchased")
        price = system.gross_cents(base, "air-1h")
        workshops = [system.workshop(base, price * per_client) for _ in range(opts.clients)]
        answered, retries, halfway = [], Counter(), threading.Event()
        faults = Faults(running, opts.kills, halfway, cluster)
        deadline = time.monotonic() + 600

        def client(index):
            http, token = requests.Session(), workshops[index][0]
            for _ in range(per_client):
                time.sleep(random.uniform(0.0, 0.6))  # a pace that spreads the purchases over the faults
                key = str(uuid.uuid4())
                answered.append((index, key, buy_until_answered(http, base, token, key, deadline, retries)))
                if len(answered) >= opts.purchases // 2:
                    halfway.set()

        started = time.monotonic()
        faults.start()
        with ThreadPoolExecutor(opts.clients) as pool:
            list(pool.map(client, range(opts.clients)))
        faults.done.set()
        faults.join()
        elapsed = time.monotonic() - started
        billing_url = running.config()["DATABASE_URLS"]["billing"]
        wait_for(lambda: unpublished(billing_url) == 0, 120, "billing's outbox to drain")
        accepted = {a.json()["id"]: (index, key) for index, key, a in answered if a.status_code == 201}
        wait_for(lambda: accepted.keys() <= delivered_purchases(deliveries), 60,
                          "every AccessPurchased to reach the partner")
        time.sleep(2)  # let late duplicates arrive too, so they are counted
        counts = count(opts, running, answered, accepted, deliveries, workshops, price)
    return report(opts, faults, elapsed, retries, counts)


def unpublished(billing_url):
    engine = make_engine(billing_url)
    with Session(engine) as s:
        n = s.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.published_at.is_(None)))
    engine.dispose()
    return n


def delivered_purchases(path):
    return {d["data"]["purchase_id"] for d in watcher.deliveries(path)}


def exactly_once(running, accepted, deliveries):
    """For purchases the clients were told were accepted (their ids): each has exactly one purchase row,
    entitlement, ledger journal and invoice in billing's tables, and one distinct AccessPurchased at the partner;
    no purchase or AccessPurchased exists that no client was told of; the books balance. Counts, by what."""
    engine = make_engine(running.config()["DATABASE_URLS"]["billing"])
    with Session(engine) as s:
        def per_purchase(column):
            return Counter(s.scalars(select(column)).all())
        purchases = per_purchase(Purchase.id)
        entitlements = per_purchase(Entitlement.purchase_id)
        journals = per_purchase(Journal.reference)  # a purchase's journal is booked under its id
        invoices = per_purchase(Invoice.purchase_id)
    engine.dispose()
    events = {}
    seen = watcher.deliveries(deliveries)
    for d in seen:
        events.setdefault(d["data"]["purchase_id"], set()).add(d["id"])
    with ClusterRpcProxy(running.config(), timeout=60) as cluster:
        books = cluster.billing.check_books(running.staff_token())

    def exactly_one(counter):
        return sum(1 for p in accepted if counter.get(p, 0) == 1)
    return {
        "answered 201 (accepted)": len(accepted),
        "accepted with exactly one purchase row": exactly_one(purchases),
        "accepted with exactly one entitlement": exactly_one(entitlements),
        "accepted with exactly one ledger journal": exactly_one(journals),
        "accepted with exactly one invoice": exactly_one(invoices),
        "accepted with exactly one AccessPurchased": sum(1 for p in accepted if len(events.get(p, ())) == 1),
        "purchase rows no client was told of": len(set(purchases) - set(accepted)),
        "AccessPurchased for unknown purchases": len(set(events) - set(purchases)),
        "AccessPurchased deliveries (duplicates included)": len(seen),
        "books balanced": books["balanced"],
    }


def each_exactly_once(c):
    """exactly_once's counts say nothing was lost or doubled."""
    accepted = c["answered 201 (accepted)"]
    return (all(c[f"accepted with exactly one {what}"] == accepted
                for what in ("purchase row", "entitlement", "ledger journal", "invoice", "AccessPurchased"))
            and c["purchase rows no client was told of"] == 0 and c["AccessPurchased for unknown purchases"] == 0
            and c["books balanced"] is True)


def count(opts, running, answered, accepted, deliveries, workshops, price):
    credit_right = 0
    for index, (token, _) in enumerate(workshops):
        bought = sum(1 for i, _, a in answered if i == index and a.status_code == 201)
        balance = requests.get(f"{running.base}/api/v1/credit", timeout=30,
                               headers={"Authorization": f"Bearer {token}"}).json()["balance_cents"]
        credit_right += balance == price * (opts.purchases // opts.clients) - price * bought
    return {"purchases asked": opts.purchases,
            "answered otherwise": sum(1 for _, _, a in answered if a.status_code != 201),
            **exactly_once(running, accepted, deliveries),
            "workshops whose credit is right": credit_right, "workshops": opts.clients}


def report(opts, faults, elapsed, retries, c):
    title = (f"Billing fault campaign: {opts.purchases} purchases by {opts.clients} clients in {elapsed:.0f} s; "
             f"{opts.replicas} billing replica(s), one SIGKILLed {faults.killed} times; "
             + (f"RabbitMQ cluster of 3 (quorum queues), node {faults.node_killed} SIGKILLed and restarted; "
                if faults.cluster else f"RabbitMQ restarted {int(faults.broker_restarted)} time; ") +
             f"client retries {retries['retry']}")
    print("\n" + title)
    for name, value in c.items():
        print(f"  {name:50} {value}")
    accepted = c["answered 201 (accepted)"]
    ok = (accepted == opts.purchases and c["answered otherwise"] == 0 and each_exactly_once(c)
          and c["workshops whose credit is right"] == c["workshops"] and faults.broker_restarted and faults.killed > 0)
    print("every accepted purchase exactly once, books balanced: " + ("YES" if ok else "NO"))
    goals.campaign(title, c, ok)
    return ok


if __name__ == "__main__":
    main()
