"""Benchmark: 1,000 purchases by 50 concurrent clients through the gateway, and how fast AccessPurchased reaches
a consumer.

Starts the system (bench.system) and a partner system subscribed to AccessPurchased (bench.watcher), registers
one workshop per client with credit for its share, then each client buys 1 hour of AIR with a fresh
Idempotency-Key, one purchase after another. Baseline in the same run: the same clients each make as many
GET /api/v1/me calls, the cheapest authenticated path. Prints purchases/s and p50/p95/p99 per request, the rate
as a share of the baseline's, and the AccessPurchased latency from the moment billing recorded the fact (the
envelope's time, set inside the purchase's transaction) to the consumer's handler, p50/p99: an upper bound of
publish-to-consume, since it also holds the commit and the relay's wake-up. Then the books are checked.

    python -m bench.purchases [--purchases 1000] [--clients 50] [--database-url postgresql://...]
"""
import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import requests
from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy import select
from sqlalchemy.orm import Session

from bench import goals, system, watcher
from services.billing.models import OutboxMessage
from services.shared.database import make_engine

TARGET_EVENT_P99_MS = 100.0


def drive(clients, per_client, request):
    """`clients` threads, each with its own connection, calling request(http, client) per_client times."""
    def client(index):
        http, latencies, failures = requests.Session(), [], 0
        for _ in range(per_client):
            started = time.perf_counter()
            ok = request(http, index)
            latencies.append(time.perf_counter() - started)
            failures += not ok
        return latencies, failures

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(client, range(clients)))
    elapsed = time.perf_counter() - started
    latencies = [x for lat, _ in results for x in lat]
    return {"rate": len(latencies) / elapsed, "seconds": elapsed, "requests": len(latencies),
            "errors": sum(f for _, f in results),
            **{f"p{p}_ms": system.percentile(latencies, p) * 1000 for p in (50, 95, 99)}}


class Buyers:
    """`clients` workshops, each with credit for `per_client` hours of AIR; `buy(http, index)` makes one purchase
    for client `index` (a fresh Idempotency-Key) and keeps the ids of those accepted."""

    def __init__(self, base, clients, per_client):
        self.base, self.accepted = base, []
        price = system.gross_cents(base, "air-1h")
        with ThreadPoolExecutor(8) as pool:
            self.tokens = list(pool.map(lambda _: system.workshop(base, price * per_client)[0], range(clients)))

    def buy(self, http, index):
        answer = system.purchase(http, self.base, self.tokens[index], str(uuid.uuid4()))
        if answer.status_code == 201:
            self.accepted.append(answer.json()["id"])
        return answer.status_code == 201


def main(argv=None):
    parser = system.parser(__doc__)
    parser.add_argument("--purchases", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=50)
    opts = parser.parse_args(argv)
    per_client = opts.purchases // opts.clients
    with system.running(opts.database_url) as running:
        base = running.base
        deliveries = running.watch("AccessPurchased")
        buyers = Buyers(base, opts.clients, per_client)
        accepted = buyers.accepted

        def me(http, index):
            return http.get(f"{base}/api/v1/me", headers={"Authorization": f"Bearer {buyers.tokens[index]}"},
                            timeout=30).status_code == 200

        baseline = running.measured(lambda: drive(opts.clients, per_client, me))
        bought = running.measured(lambda: drive(opts.clients, per_client, buyers.buy))
        events = wait_for_events(deliveries, set(accepted))
        with ClusterRpcProxy(running.config(), timeout=60) as cluster:
            books = cluster.billing.check_books(running.staff_token())
        published = published_at(running.config()["DATABASE_URLS"]["billing"])
        trail = audit_trail(running.config()["DATABASE_URLS"]["audit"], {d["id"] for d in events})
    report(opts, baseline, bought, events, published, books, trail)


def published_at(billing_url):
    """When the relay had each event confirmed by the broker, by event id (epoch seconds)."""
    engine = make_engine(billing_url)
    with Session(engine) as s:
        rows = s.execute(select(OutboxMessage.id, OutboxMessage.published_at)).all()
    engine.dispose()
    return {event_id: at.timestamp() for event_id, at in rows if at is not None}


def audit_trail(audit_url, event_ids, seconds=60):
    """The audit service's entries for these events, once it has them all (or after `seconds`): how long each
    took from the event to the trail, and when each was recorded (the audit's write rate under the load)."""
    from services.audit.models import Entry
    engine = make_engine(audit_url)
    deadline = time.monotonic() + seconds
    while True:
        with Session(engine) as s:
            found = s.execute(select(Entry.occurred_at, Entry.recorded_at).where(Entry.event_id.in_(event_ids))).all()
        if len(found) >= len(event_ids) or time.monotonic() > deadline:
            engine.dispose()
            return {"spans": [(b - a).total_seconds() for a, b in found], "expected": len(event_ids),
                    "recorded": [b.timestamp() for _, b in found]}
        time.sleep(0.5)


def wait_for_events(path, purchase_ids, seconds=60):
    deadline = time.monotonic() + seconds
    while True:
        seen = [d for d in watcher.deliveries(path) if d["data"]["purchase_id"] in purchase_ids]
        if len({d["data"]["purchase_id"] for d in seen}) == len(purchase_ids) or time.monotonic() > deadline:
            return seen
        time.sleep(0.5)


def report(opts, baseline, bought, events, published, books, trail):
    print(f"\nPurchases benchmark: {bought['requests']} purchases by {opts.clients} concurrent clients, "
          f"{os.cpu_count()} cores, billing on {'PostgreSQL' if opts.database_url else 'SQLite'}")
    system.table({"GET /api/v1/me (baseline)": baseline, "POST /api/v1/purchases": bought}, 26)
    goals.cpu("purchases", {"GET /api/v1/me (baseline)": baseline, "POST /api/v1/purchases": bought})
    goals.ratio("purchase / me rate", bought["rate"] / baseline["rate"])
    goals.ratio("purchase CPU ms", bought["cpu_ms"])
    distinct = len({d["data"]["purchase_id"] for d in events})
    print(f"AccessPurchased: {distinct} of {bought['requests'] - bought['errors']} accepted purchases delivered "
          f"({len(events)} deliveries)")
    whole = [d["received"] - d["time"] for d in events]
    spans = {"recorded -> consumed (whole way)": whole,
             "recorded -> broker confirmed": [published[d["id"]] - d["time"] for d in events],
             "broker confirmed -> consumed": [d["received"] - published[d["id"]] for d in events]}
    for span, seconds in spans.items():
        print(f"  {span:34} p50 {system.percentile(seconds, 50) * 1000:7.1f} ms  "
              f"p99 {system.percentile(seconds, 99) * 1000:7.1f} ms")
    p99 = system.percentile(whole, 99) * 1000  # publishing starts after the commit: this bounds it from above
    print(f"publish-to-consume p99 <= {p99:.1f} ms (target < {TARGET_EVENT_P99_MS:.0f} ms: "
          f"{'met' if p99 < TARGET_EVENT_P99_MS else 'MISSED'})")
    print(f"books balanced: {books['balanced']} {books['problems'] or ''}")
    spans, recorded = trail["spans"], sorted(trail["recorded"])
    busy = max(recorded[-1] - recorded[0], 1e-9) if len(recorded) > 1 else float("nan")
    print(f"audit trail: {len(spans)} of {trail['expected']} AccessPurchased recorded, at {len(recorded) / busy:.0f}"
          f"/s while they came; event -> trail p50 {system.percentile(spans, 50) * 1000:.1f} ms, "
          f"p99 {system.percentile(spans, 99) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
