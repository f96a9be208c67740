"""Benchmark: AIR search through the gateway on a 100,000-document library (the demo corpus), a mix of free text,
filtered and faceted, VIN-filtered and fault-code queries at concurrency 8, by a workshop with access (so
snippets and highlights are made). In the same run, on equal terms: the engine queried in-process at the same
concurrency (the tantivy folder the air service serves, opened read-only here, the same queries, as many threads
as clients), its p95 and its CPU per query against the gateway's; and GET /me through the gateway as the baseline
of what any gateway round trip costs on this machine.

    python -m bench.air_search [--documents 100000] [--seconds 10] [--concurrency 8] [--database-url ...]

`--profile`: py-spy samples the air service while the gateway's searches run, and its top frames are printed.
"""
import json
import os
import random
import threading
import time
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlencode

import requests
from sqlalchemy.orm import Session

from bench import goals, system
from bench.profile import report as profile_report, sampled
from services.air.settings import AirSettings
from services.shared.config import build
from services.air import content, domain, search
from deploy import corpus
from services.shared import blobs
from services.shared.database import make_engine
from deploy import vehicles
from services.vehicle_data import feed

TARGET_P95_MS = 30.0
FREE_TEXT = ["misfire cylinder 1", "ignition coil replace", "brake pads worn", "coolant pump overheating",
             "oxygen sensor lean mixture", "timing chain rattle cold start", "battery not charging",
             "parking brake fault", "\"fuel injector\" rough running", "wheel speed sensor abs", "thermostat",
             "transmission emergency mode", "headlight not working", "air conditioning no cooling",
             "mass air flow", "crankshaft position sensor no start", "catalyst efficiency", "tie rod steering"]


def queries(vehicles, rng, count=400):
    codes = list(corpus.generic_fault_codes())
    lines = []
    for i in range(count):
        kind = i % 4
        if kind == 0:
            params = {"q": rng.choice(FREE_TEXT)}
        elif kind == 1:
            system_, type_ = rng.choice([("12", "repair_instruction"), ("34", "repair_instruction"),
                                         ("13", "fault_code"), ("12", "wiring_diagram"), ("11", "technical_data")])
            params = {"q": rng.choice(FREE_TEXT).split()[0], "system": system_, "type": type_}
        elif kind == 2:
            params = {"q": rng.choice(FREE_TEXT), "vin": rng.choice(vehicles)["vin"]}
        else:
            params = {"q": rng.choice(codes)}
        lines.append(urlencode(params))
    return lines


def in_process(index, lines, described, seconds, concurrency=1):
    """The same queries straight on the engine, from `concurrency` threads at once (tantivy releases the GIL while
    it searches, as the air service's thread pool lets it): (milliseconds per query, CPU milliseconds per query)."""
    times, until, lock = [], time.perf_counter() + seconds, threading.Lock()

    def client(offset):
        while time.perf_counter() < until:
            for line in lines[offset:] + lines[:offset]:
                p = {k: v[0] for k, v in parse_qs(line).items()}
                vehicle = domain.Vehicle.from_described(described[p["vin"]]) if "vin" in p else None
                filters = domain.Filters(types=(p["type"],) if "type" in p else (),
                                         systems=(p["system"],) if "system" in p else (), vehicle=vehicle)
                started = time.perf_counter()
                index.search(domain.read_text(p["q"]), filters, limit=10, highlight=True)
                with lock:
                    times.append((time.perf_counter() - started) * 1000)
                if time.perf_counter() >= until:
                    break
    cpu = time.process_time()
    clients = [threading.Thread(target=client, args=(i * len(lines) // concurrency,)) for i in range(concurrency)]
    for c in clients:
        c.start()
    for c in clients:
        c.join()
    return times, (time.process_time() - cpu) * 1000 / max(len(times), 1)


def main(argv=None):
    parser = system.parser(__doc__)
    parser.add_argument("--documents", type=int, default=100000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--profile", action="store_true")
    opts = parser.parse_args(argv)
    registry = vehicles.generate(2000, seed=17)
    rng = random.Random(3)
    with system.running(opts.database_url, {"AOS_AIR_SYNC_SECONDS": "0.5"}) as running:
        config = running.config()
        engine = make_engine(config["DATABASE_URLS"]["vehicle_data"])
        with Session(engine) as session, session.begin():
            feed.import_rows(session, feed.check(registry), datetime.now(timezone.utc))
        engine.dispose()
        corpus.write(running.data / "library", opts.documents)
        store = blobs.from_config(config)
        store.ensure_bucket()
        engine = make_engine(config["DATABASE_URLS"]["air"])
        started = time.perf_counter()
        content.import_package(running.data / "library", engine, store)
        engine.dispose()
        token, _ = system.workshop(running.base, 10000)
        auth = {"Authorization": f"Bearer {token}"}
        requests.post(f"{running.base}/api/v1/purchases", json={"tariff_code": "air-1d"},
                      headers=auth | {"Idempotency-Key": "bench-air"}, timeout=30).raise_for_status()

        def indexed():
            tree = requests.get(f"{running.base}/api/v1/air/navigation", headers=auth, timeout=30).json()
            return sum(n["count"] for n in tree["by_system"]) == opts.documents
        system.wait_until_true(indexed, 600, "AIR to index the library")
        ready = time.perf_counter() - started
        system.wait_until_true(lambda: requests.get(f"{running.base}/api/v1/air/search", params={"q": "misfire"},
                                                    headers=auth, timeout=30).json()["access"], 30, "access")
        lines = queries(registry["vehicles"], rng)
        values = running.data / "queries.txt"
        values.write_text("\n".join(lines))
        as_rpc = running.data / "queries.jsonl"  # the same queries as the gateway hands them to air
        as_rpc.write_text("\n".join(json.dumps(parse_qs(line)) for line in lines))
        actor = json.dumps({"token": token})  # as the gateway hands it: the service takes the user from the token
        c, s = opts.concurrency, opts.seconds
        results = {
            "http GET /me (baseline)": running.load("http", running.base, token, "/api/v1/me", c, s),
            "rpc air.search mix": running.load("rpc", running.amqp_uri, "air.search", f"[{actor}, {{value}}]", c, s,
                                              as_rpc),
        }
        with sampled(running, ["air"] if opts.profile else [], s + 2) as stacks:
            results["http GET /air/search mix"] = running.load("http", running.base, token,
                                                               "/api/v1/air/search?{value}", c, s, values)
        for name, collapsed in stacks.items():
            profile_report(name, collapsed, 30)
        vins = {p["vin"][0] for p in (parse_qs(line) for line in lines) if "vin" in p}
        described = {v["vin"]: v for v in registry["vehicles"] if v["vin"] in vins}
        index = search.TantivyIndex(str(build(AirSettings, config["ENVIRONMENT"]).index_dir))
        engine_ms, engine_cpu_ms = in_process(index, lines, described, min(s, 10), c)
    report(opts, ready, results, engine_ms, engine_cpu_ms)


def report(opts, ready, results, engine_ms, engine_cpu_ms):
    print(f"\nAIR search benchmark: {opts.documents} documents (imported and indexed by the running air service in "
          f"{ready:.0f} s), query mix of free text / filtered + faceted / VIN-filtered / fault code, concurrency "
          f"{opts.concurrency}, {opts.seconds:g} s per path, {os.cpu_count()} cores, "
          f"{'PostgreSQL' if opts.database_url else 'SQLite'}")
    system.table(results, 28)
    p = {q: system.percentile(engine_ms, q) for q in (50, 95, 99)}
    print(f"{'engine in-process (tantivy)':28} {'-':>8} {p[50]:8.1f} {p[95]:8.1f} {p[99]:8.1f} {engine_cpu_ms:7.2f} "
          f"{0:7d} {len(engine_ms):9d}   (concurrency {opts.concurrency}, threads in this process)")
    goals.cpu("air_search", results)
    gateway, me = results["http GET /air/search mix"], results["http GET /me (baseline)"]
    print(f"engine share of the search p95: {p[95] / gateway['p95_ms']:.0%}")
    goals.ratio("air search / me p95", gateway["p95_ms"] / me["p95_ms"])
    goals.ratio("air gateway / engine p95", gateway["p95_ms"] / p[95])
    goals.ratio("air gateway / engine CPU per query", gateway["cpu_ms"] / engine_cpu_ms)
    print(f"gateway search p95 {gateway['p95_ms']:.1f} ms (target < {TARGET_P95_MS:.0f} ms: "
          f"{'met' if gateway['p95_ms'] < TARGET_P95_MS else 'MISSED'}); errors {gateway['errors']}")
    print(json.dumps({"search_p95_ms": gateway["p95_ms"], "engine_p95_ms": p[95]}))


if __name__ == "__main__":
    main()
