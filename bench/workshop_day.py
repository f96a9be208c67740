"""Benchmark: how many workshops one node carries through a compressed day (the capacity model).

Every virtual workshop has bought technical information, parts, programming and remote-diagnosis time, and has two
agents (played over HTTP, no car). While a step runs, each workshop at once:
- a user at the screen: an action every `--think` seconds on average (exponential), from the day's mix: the token's
  user asked again (GET /me, as a refresh does), an AIR search filtered to one of its VINs, a document opened, a
  vehicle read, a part looked up by number, a page of the AIR change feed (a partner's mirror), and once a step a
  purchase;
- a programming session, its agent's heartbeat every 2 s;
- a diagnosis job with live data, its agent sending 10 samples a second in batches of one a second.

After 10 s of the first step's day unmeasured (a fresh system's first requests), steps the number of workshops up
(`--steps`, each for `--seconds`; when every one held, on by the last step's increment until one does not, up to
`--most`, twice the last step by default: the figure is found, not a floor) and prints per step the interactive latency
(p50/p95/p99), the heartbeat p99 against its 2 s interval, errors and the CPU per process; then the largest number
of workshops with interactive p99 under 300 ms, heartbeats within 25 % of their interval and no error, and that
per core. `--profile` samples the two dearest processes with py-spy in the last step that held and prints their top
frames.

`--cluster` runs it on a RabbitMQ cluster of three nodes of the run's own (quorum queues) and, after the steps, runs
the largest that held (the first if none did) once more with one node SIGKILLed a third of the way in and started
again 5 s later (clients retry a purchase with its Idempotency-Key, as a browser does). Then every purchase of the
run is counted: each one a workshop was told of has exactly one purchase row, entitlement, journal, invoice,
AccessPurchased at a partner and entry in the audit trail, no other exists, every workshop's credit is its top-up
less what it was told it paid, the books balance; recorded as a fault campaign.

    python -m bench.workshop_day [--steps 16,32,48,64] [--seconds 20] [--think 2] [--database-url ...]
    python -m bench.workshop_day --cluster --replicas 2 --database-url postgresql://... --steps 8,16,24
"""
import eventlet

eventlet.monkey_patch()  # noqa: E402  hundreds of clients on green threads

import argparse  # noqa: E402
import collections  # noqa: E402
import contextlib  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from pathlib import Path  # noqa: E402

import requests  # noqa: E402
from sqlalchemy import select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench import goals, system, watcher  # noqa: E402
from bench.profile import report as profile_report, sampled  # noqa: E402
from bench.purchase_faults import FINAL, each_exactly_once, exactly_once, free_port_block, unpublished  # noqa: E402
from deploy.ports import wait_for  # noqa: E402
from deploy.rabbitmq_cluster import Cluster  # noqa: E402
from deploy import corpus, parts as demo_parts, software, vehicles  # noqa: E402
from services.air import content  # noqa: E402
from services.audit.models import Entry  # noqa: E402
from services.parts import package  # noqa: E402
from services.programming import catalog  # noqa: E402
from services.shared import blobs  # noqa: E402
from services.shared.database import make_engine  # noqa: E402
from services.vehicle_data import feed  # noqa: E402

HEARTBEAT = 2.0
WARMUP = 10.0  # seconds of the first step's day before the steps are measured
INTERACTIVE_P99_MS, HEARTBEAT_SHARE = 300.0, 0.25
CREDIT = 200000  # each workshop's top-up, cents
TARIFFS = ("air-1d", "parts-1d", "prog-180", "diag-60")
MIX = (("me", 30), ("search", 25), ("document", 15), ("vehicle", 15), ("part", 10), ("feed", 5))
QUERIES = ("misfire", "ignition coil", "brake pads", "coolant", "timing chain", "battery", "oil service")
LIVE = [{"did": "0x4001", "name": "engine_speed", "label": "Engine speed", "value": 780.0, "unit": "1/min",
         "min": 600.0, "max": 900.0, "in_limits": True},
        {"did": "0x4002", "name": "coolant_temperature", "label": "Coolant temperature", "value": 92, "unit": "°C",
         "min": 80.0, "max": 105.0, "in_limits": True}]


def main(argv=None):
    parser = system.parser(__doc__)
    parser.add_argument("--steps", default="16,32,48,64")
    parser.add_argument("--most", type=int, help="workshops at most, stepping on after --steps all held")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--think", type=float, default=2.0)
    parser.add_argument("--documents", type=int, default=3000)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--cluster", action="store_true",
                        help="a RabbitMQ cluster of three nodes of the run's own; a last step with one node killed")
    opts = parser.parse_args(argv)
    steps = stepped([int(n) for n in opts.steps.split(",")], opts.most)
    registry = vehicles.generate(max(steps) * 2 + 50, seed=29)
    env = {"AOS_AIR_SYNC_SECONDS": "0.5"} | ({"AOS_QUORUM_QUEUES": "true"} if opts.cluster else {})
    with contextlib.ExitStack() as stack:
        cluster = stack.enter_context(Cluster(Path(stack.enter_context(tempfile.TemporaryDirectory())),
                                              port=free_port_block())) if opts.cluster else None
        running = stack.enter_context(system.running(opts.database_url, env, replicas=opts.replicas,
                                                     broker_uri=cluster.uri() if cluster else None))
        deliveries = running.watch("AccessPurchased") if cluster else None
        http = requests.Session()
        http.mount("http://", requests.adapters.HTTPAdapter(pool_connections=50, pool_maxsize=1000))
        documents, numbers, setup = prepare(running, registry, opts.documents)
        cars = iter(registry["vehicles"])
        shops = more_workshops([], steps[0], http, running.base, cars)
        # not measured: the first searches, reads and replicas' caches of a fresh system, which a day has warm
        day(http, running.base, shops, argparse.Namespace(**{**vars(opts), "seconds": WARMUP}), documents, numbers)
        results = []
        for n in steps:
            more_workshops(shops, n, http, running.base, cars)
            figures = running.measured(lambda: day(http, running.base, shops[:n], opts, documents, numbers))
            figures["workshops"] = n
            results.append(figures)
            print(line(figures), flush=True)
            if not holds(figures):
                break
        held = [r for r in results if holds(r)]
        profiled = profile(running, http, shops, held[-1], opts, documents, numbers) \
            if opts.profile and held else None
        report(results, held, opts, profiled)
        if cluster is not None:  # what is lost or doubled does not hang on the latency: the first step if none held
            at = held[-1] if held else results[0]
            node_lost(running, cluster, http, shops[:at["workshops"]], opts, documents, numbers, deliveries, shops,
                      setup)


def refusal(answer):
    """A refused answer's status and the error code its body names (API.md's error envelope), if it names one."""
    try:
        return f"{answer.status_code} {answer.json()['error']['code']}"
    except (ValueError, KeyError, TypeError):
        return str(answer.status_code)


def stepped(steps, most=None):
    """The steps asked for, then on by the last one's increment up to `most` (twice the last step by default): the
    loop runs them while each holds."""
    most = most or steps[-1] * 2
    by = steps[-1] - (steps[-2] if len(steps) > 1 else 0)
    return steps + list(range(steps[-1] + by, most + 1, by)) if by > 0 else steps


def node_lost(running, cluster, http, shops, opts, documents, numbers, deliveries, everyone, setup):
    """The largest step that held (or the first), once more with a node of the cluster SIGKILLed a third of the way
    in; then every purchase of the run counted (purchase_faults.exactly_once, the audit trail, each workshop's
    credit)."""
    victim = random.randrange(cluster.count)

    def kill():
        time.sleep(opts.seconds / 3)
        cluster.kill(victim)
        time.sleep(5)
        cluster.restart(victim)
    killer = threading.Thread(target=kill)
    killer.start()
    r = running.measured(lambda: day(http, running.base, shops, opts, documents, numbers, retry=True))
    killer.join()
    r["workshops"] = len(shops)
    print(f"with node {victim} of 3 SIGKILLed at {opts.seconds / 3:.0f} s and back 5 s later: " + line(r))
    billing_url = running.config()["DATABASE_URLS"]["billing"]
    wait_for(lambda: unpublished(billing_url) == 0, 120, "billing's outbox to drain")
    accepted = {pid for shop in everyone for pid, _ in shop.paid} | {setup}  # the setup's purchase was told too
    wait_for(lambda: accepted <= {d["data"]["purchase_id"] for d in watcher.deliveries(deliveries)}, 60,
             "every AccessPurchased to reach the partner")
    time.sleep(2)  # late duplicates are counted too
    counts = exactly_once(running, accepted, deliveries)
    event_ids = {d["id"] for d in watcher.deliveries(deliveries)}
    counts["AccessPurchased recorded once in the audit trail"] = trail_once(running, event_ids)
    counts["AccessPurchased events"] = len(event_ids)
    counts["workshops whose credit is right"] = sum(
        shop.credit() == CREDIT - sum(gross for _, gross in shop.paid) for shop in everyone)
    counts["workshops"] = len(everyone)
    counts["errors while the node was away (screen and agents)"] = sum(r["errors"].values())
    ok = (each_exactly_once(counts) and counts["workshops whose credit is right"] == counts["workshops"]
          and counts["AccessPurchased recorded once in the audit trail"] == counts["AccessPurchased events"])
    title = (f"Workshop day on a RabbitMQ cluster of 3 (quorum queues), {opts.replicas} replica(s) of each service, "
             f"{len(shops)} workshops for {opts.seconds:.0f} s, node {victim} SIGKILLed and restarted")
    print("\n" + title)
    for name, value in counts.items():
        print(f"  {name:50} {value}")
    print("nothing lost or doubled: " + ("YES" if ok else "NO"))
    goals.campaign(title, counts, ok)


def trail_once(running, event_ids, seconds=60):
    """How many of these events the audit trail holds exactly once, once it holds them all (or after `seconds`)."""
    engine = make_engine(running.config()["DATABASE_URLS"]["audit"])
    deadline = time.monotonic() + seconds
    while True:
        with Session(engine) as s:
            found = collections.Counter(s.scalars(select(Entry.event_id).where(Entry.event_id.in_(event_ids))).all())
        if len(found) >= len(event_ids) or time.monotonic() > deadline:
            engine.dispose()
            return sum(1 for n in found.values() if n == 1)
        time.sleep(0.5)


def prepare(running, registry, count):
    """The manufacturer's side: the registry, a library of `count` documents (indexed), the demo parts catalogue,
    signed software for every car. Returns (document ids, part numbers, the id of the purchase it made)."""
    config = running.config()
    engine = make_engine(config["DATABASE_URLS"]["vehicle_data"])
    with Session(engine) as session, session.begin():
        feed.import_rows(session, feed.check(registry), datetime.now(timezone.utc))
    engine.dispose()
    store = blobs.from_config(config)
    store.ensure_bucket()
    corpus.write(running.data / "library", count)
    engine = make_engine(config["DATABASE_URLS"]["air"])
    content.import_package(running.data / "library", engine, store)
    engine.dispose()
    demo_parts.write(running.data / "parts")
    engine = make_engine(config["DATABASE_URLS"]["parts"])
    package.import_package(running.data / "parts", engine, store)
    engine.dispose()
    key = software.new_key()
    software.generate(running.data / "software", key, registry["vehicles"], image_bytes=1024)
    engine = make_engine(config["DATABASE_URLS"]["programming"])
    catalog.import_catalog(running.data / "software", engine, store, key.public_key())
    engine.dispose()
    numbers = [line.split('"number": "')[1][:11] for line in
               (running.data / "parts" / "parts.jsonl").read_text().splitlines()[:500]]
    ids = [line.split('"id": "')[1].split('"')[0] for line in
           (running.data / "library" / "documents.jsonl").read_text().splitlines()[:2000]]
    token, _ = system.workshop(running.base, 10000)
    auth = {"Authorization": f"Bearer {token}"}
    bought = requests.post(f"{running.base}/api/v1/purchases", json={"tariff_code": "air-1d"}, timeout=30,
                           headers=auth | {"Idempotency-Key": str(uuid.uuid4())})
    bought.raise_for_status()

    def indexed():
        tree = requests.get(f"{running.base}/api/v1/air/navigation", headers=auth, timeout=30).json()
        return sum(n["count"] for n in tree["by_system"]) == count
    system.wait_until_true(indexed, 600, "AIR to index the library")
    return ids, numbers, bought.json()["id"]


def more_workshops(shops, n, http, base, cars):
    """`shops` grown to `n` workshops, made side by side (their setup is not measured)."""
    given = [[next(cars), next(cars)] for _ in range(n - len(shops))]
    shops.extend(system.side_by_side(lambda two: Workshop(http, base, two), given))
    return shops


class Workshop:
    """A workshop as the day finds it: signed in, its time bought, a programming session ready on its first car and
    a diagnosis job on its second, each with an agent of its own."""

    def __init__(self, http, base, cars):
        self.http, self.base = http, base
        token, _ = system.workshop(base, CREDIT)
        self.user = {"Authorization": f"Bearer {token}"}
        self.paid = []  # (purchase id, gross cents) of every purchase this workshop was told was accepted
        for tariff in TARIFFS:
            self.bought(self._post("/purchases", {"tariff_code": tariff}, key=True))
        self.vins = [c["vin"] for c in cars]
        self.programmer, self.diagnoser = self._agent(), self._agent()
        system.wait_until_true(lambda: self._session(cars[0]), 60, "programming to hear of the pack")
        system.wait_until_true(lambda: self._job(cars[1]), 60, "programming to hear of the diagnosis pack")

    def bought(self, purchase):
        self.paid.append((purchase["id"], purchase["gross_cents"]))

    def credit(self):
        return self.http.get(f"{self.base}/api/v1/credit", headers=self.user, timeout=30).json()["balance_cents"]

    def _post(self, path, body, key=False, auth=None):
        headers = (auth or self.user) | ({"Idempotency-Key": str(uuid.uuid4())} if key else {})
        answer = self.http.post(f"{self.base}/api/v1{path}", json=body, headers=headers, timeout=30)
        answer.raise_for_status()
        return answer.json()

    def _agent(self):
        made = self._post("/agents", {"name": "bench"})
        return {"id": made["id"], "auth": {"Authorization": f"Agent {made['id']}:{made['credential']}"}}

    def _session(self, car):
        opened = self._post("/programming/sessions", {"vin": car["vin"], "agent_id": self.programmer["id"]})
        ecus = [{"address": e["address"], "software_version": e["software_version"],
                 "hardware_part_number": e["hardware_part_number"], "state": "APPLICATION"} for e in car["ecus"]]
        report = f"/agents/sessions/{opened['id']}/report"
        plan = self._post(report, {"sequence": 1, "kind": "preflight", "vehicle": {
            "vin": car["vin"], "voltage_mv": 12600, "ecus": ecus}}, auth=self.programmer["auth"])["plan"]
        self._post(report, {"sequence": 2, "kind": "files_verified", "package_ids": [p["package_id"] for p in plan]},
                   auth=self.programmer["auth"])
        self.session = opened["id"]
        return True

    def _job(self, car):
        self.job = self._post("/jobs", {"vin": car["vin"], "agent_id": self.diagnoser["id"],
                                        "complaint": "bench", "odometer_km": 1000})["id"]
        return True


def day(http, base, shops, opts, documents, numbers, retry=False):
    """One step: every workshop's user, session and live data for `opts.seconds`; the latencies and errors.
    `retry`: a purchase without a final answer is asked again with its key (a node of the broker is lost)."""
    until = time.monotonic() + opts.seconds
    interactive, errors, lock = collections.defaultdict(list), collections.Counter(), threading.Lock()
    agents = {"heartbeat": [], "samples": []}  # the agents' requests: not the screen's
    pool = eventlet.GreenPool(len(shops) * 3 + 10)

    def timed(kind, call):
        started = time.perf_counter()
        try:
            answer = call()
            why = "no final answer" if answer is None else refusal(answer) if answer.status_code >= 400 else None
        except requests.RequestException as exc:
            why = type(exc).__name__
        with lock:
            (agents[kind] if kind in agents else interactive[kind]).append((time.perf_counter() - started) * 1000)
            if why is not None:  # counted by what and why: "samples 409 RUN_NOT_RUNNING"
                errors[f"{kind} {why}"] += 1

    def user(shop, rng):
        kinds = [k for k, w in MIX for _ in range(w)]
        buy_at = time.monotonic() + rng.uniform(0, opts.seconds * 0.8)  # once a step, when this user gets to it
        while time.monotonic() < until:
            if buy_at is not None and time.monotonic() >= buy_at:
                buy_at = None
                timed("purchase", lambda: buy(shop, str(uuid.uuid4())))
            eventlet.sleep(rng.expovariate(1 / opts.think))
            kind, vin = rng.choice(kinds), rng.choice(shop.vins)
            path = {"me": "/api/v1/me",
                    "search": f"/api/v1/air/search?q={rng.choice(QUERIES)}&vin={vin}",
                    "document": f"/api/v1/air/documents/{rng.choice(documents)}",
                    "vehicle": f"/api/v1/vehicles/{vin}",
                    "part": f"/api/v1/parts/parts/{rng.choice(numbers)}?vin={vin}",
                    "feed": f"/api/v1/feeds/air?after={opts.documents - 20}"}[kind]  # the last 20 changes
            timed(kind, lambda: http.get(base + path, headers=shop.user, timeout=30))

    def buy(shop, key):
        answer = None  # none final after a minute of retries: an error
        for _ in range(60 if retry else 1):
            try:
                answer = http.post(f"{base}/api/v1/purchases", json={"tariff_code": "air-1h"}, timeout=30,
                                   headers=shop.user | {"Idempotency-Key": key})
            except requests.RequestException:
                if not retry:
                    raise
                eventlet.sleep(0.5)
                continue
            if answer.status_code == 201:
                shop.bought(answer.json())
            if answer.status_code in FINAL or not retry:
                return answer
            eventlet.sleep(0.5)
        return answer

    def programming(shop):
        url = f"{base}/api/v1/programming/sessions/{shop.session}"
        http.post(url + "/start", headers=shop.user, timeout=30)
        while time.monotonic() < until:
            eventlet.sleep(HEARTBEAT)
            timed("heartbeat", lambda: http.post(f"{base}/api/v1/agents/sessions/{shop.session}/heartbeat", json={},
                                                 headers=shop.programmer["auth"], timeout=30))
        http.post(url + "/end", headers=shop.user, timeout=30)

    def live_data(shop):
        run = http.post(f"{base}/api/v1/jobs/{shop.job}/runs", headers=shop.user, timeout=30, json={
            "kind": "live_data", "ecu_address": "0x12", "identifiers": ["engine_speed", "coolant_temperature"],
            "rate": 10, "seconds": int(opts.seconds) + 5}).json()
        http.get(f"{base}/api/v1/agents/jobs", headers=shop.diagnoser["auth"], timeout=30)  # the agent takes it
        t = 0.0
        while time.monotonic() < until:
            eventlet.sleep(1.0)
            batch = [{"t": round(t + i / 10, 2), "values": LIVE} for i in range(10)]
            t += 1.0
            timed("samples", lambda: http.post(f"{base}/api/v1/agents/runs/{run['id']}/samples",
                                               json={"samples": batch}, headers=shop.diagnoser["auth"], timeout=30))
        http.post(f"{base}/api/v1/agents/runs/{run['id']}/report", json={"outcome": "done", "result": None},
                  headers=shop.diagnoser["auth"], timeout=30)

    for index, shop in enumerate(shops):
        rng = random.Random(index)
        pool.spawn(user, shop, rng)
        pool.spawn(programming, shop)
        pool.spawn(live_data, shop)
    pool.waitall()
    every = [ms for values in interactive.values() for ms in values]
    return {"requests": len(every) + len(agents["heartbeat"]) + len(agents["samples"]),
            "interactive": dict(interactive), "errors": dict(errors),
            "p50_ms": system.percentile(every, 50), "p95_ms": system.percentile(every, 95),
            "p99_ms": system.percentile(every, 99), "heartbeat_p99_ms": system.percentile(agents["heartbeat"], 99),
            "samples_p99_ms": system.percentile(agents["samples"], 99), "rate": len(every) / opts.seconds}


def holds(r):
    return (r["p99_ms"] < INTERACTIVE_P99_MS and r["heartbeat_p99_ms"] < HEARTBEAT_SHARE * HEARTBEAT * 1000
            and not r["errors"])


def line(r):
    cpu = ", ".join(f"{name} {ms * r['requests'] / 1000:.1f} s" for name, ms in
                    sorted(r["cpu_ms_by"].items(), key=lambda x: -x[1])[:5])
    return (f"{r['workshops']:4d} workshops: {r['rate']:6.1f} interactive req/s, p50 {r['p50_ms']:.0f} ms, p95 "
            f"{r['p95_ms']:.0f} ms, p99 {r['p99_ms']:.0f} ms; heartbeat p99 {r['heartbeat_p99_ms']:.0f} ms "
            f"({r['heartbeat_p99_ms'] / (HEARTBEAT * 1000):.2f} of the interval); errors {r['errors'] or 0}; "
            f"{'holds' if holds(r) else 'does NOT hold'}; CPU {cpu}")


def profile(running, http, shops, held, opts, documents, numbers):
    """The last step that held, run again while py-spy samples its two dearest processes; their collapsed stacks."""
    dearest = [name for name, _ in sorted(held["cpu_ms_by"].items(), key=lambda x: -x[1])
               if name in running.processes][:2]
    with sampled(running, dearest, opts.seconds, rate=100) as stacks:
        day(http, running.base, shops[:held["workshops"]], opts, documents, numbers)
    return stacks


def report(results, held, opts, profiled):
    database = "PostgreSQL" if opts.database_url else "SQLite"
    cores = os.cpu_count()
    print(f"\nworkshop day on {database}, {opts.replicas} replica(s) of each service, {cores} cores, think time "
          f"{opts.think} s, {opts.seconds:.0f} s a step")
    for r in results:
        kinds = ", ".join(f"{k} p99 {system.percentile(v, 99):.0f}" for k, v in sorted(r["interactive"].items()))
        print(f"  {r['workshops']} workshops: {kinds} ms")
    if not held:
        print("no step held: even the smallest number of workshops broke a rule")
        return
    best = held[-1]["workshops"]
    goals.capacity(f"{database}, {opts.replicas} replica(s) of each service, think time {opts.think:g} s", best,
                   cores, len(held) == len(results))
    print(f"carried: {best} workshops (interactive p99 < {INTERACTIVE_P99_MS:.0f} ms, heartbeats within "
          f"{HEARTBEAT_SHARE:.0%} of {HEARTBEAT:.0f} s, no error) = {best / cores:.1f} workshops per core"
          + ("" if len(held) < len(results) else " (every step held: the node carries more than this)"))
    for name, collapsed in (profiled or {}).items():
        profile_report(name, collapsed, 8)


if __name__ == "__main__":
    main(sys.argv[1:])
