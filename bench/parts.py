"""Benchmark: the parts catalogue at a manufacturer's size. A 200,000-part package (the demo generator grown with its
long tail) is checked and imported by the package CLI in a process of its own (parts/s, its peak memory), the
running parts service indexes it and switches to it; then, for cars of the registry, a part-number lookup, a
VIN-filtered illustration and a search by name through the gateway at concurrency 8, each against the same read in
process on the same database (the use case itself, no broker, no HTTP), the search against the engine's own query
time, and GET /me through the gateway as the baseline of any round trip on this machine.

    python -m bench.parts [--parts 200000] [--seconds 10] [--concurrency 8] [--database-url postgresql://...]
"""
import json
import os
import random
import subprocess
import sys
import time
from datetime import datetime, timezone
from urllib.parse import urlencode

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bench import goals, system
from deploy import parts as demo_parts
from deploy import vehicles
from services.parts import dependencies, domain, search, use_cases
from services.parts.contracts import FACTS
from services.parts.models import Catalogue, Illustration, OutboxMessage, ProcessedEvent, Row
from services.parts.settings import PartsSettings
from services.shared import blobs
from services.shared.config import build
from services.shared.database import Store, make_engine
from services.vehicle_data import feed

WORDS = ["ignition coil", "zündspule", "brake pad", "bremsscheibe", "spark plug", "oil filter", "thermostat",
         "headlight", "wheel speed sensor", "bracket", "clip front left", "hose", "trim panel", "injektor",
         "ignitoin coil", "timing chain", "battery", "gasket"]


# the package CLI as `make parts-import` runs it, in a process that says its own peak memory at the end: VmHWM,
# its address space's high-water mark (ru_maxrss would carry over the peak of the bench process it was forked from)
CLI = ("import re, runpy, sys\n"
       "sys.argv = ['package', 'import', sys.argv[1]]\n"
       "try:\n    runpy.run_module('services.parts.package', run_name='__main__')\n"
       "except SystemExit as done:\n    assert not done.code, done.code\n"
       "print(int(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)) / 1024)\n")


def timed_import(env, folder):
    """The package CLI in a process of its own: seconds, and its peak resident memory in MB."""
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", CLI, str(folder)], env=env, check=True, capture_output=True,
                         text=True)
    return time.perf_counter() - started, float(out.stdout.strip().splitlines()[-1])


def workload(url, cars, rng, count=400):
    """What the clients ask, from the catalogue itself: numbers as printed (typed with spaces or without, an old
    one half the time), the illustrations of each car's series, words in either language, each with a car."""
    with Session(make_engine(url)) as s:
        active = s.scalar(select(Catalogue).where(Catalogue.active.is_(True)))
        by_series = {}
        for id, series in s.execute(select(Illustration.id, Illustration.series)
                                    .where(Illustration.catalogue_id == active.id)):
            by_series.setdefault(series, []).append(id)
        numbers = s.scalars(select(Row.number).where(Row.catalogue_id == active.id).limit(20000)).all()
    mine = [c for c in cars if c["series"] in by_series]
    lines = {"part": [], "illustration": [], "search": []}
    for _ in range(count):
        car = rng.choice(mine)
        number = rng.choice(numbers)
        lines["part"].append((domain.written(number).replace(" ", "%20") if rng.random() < .5 else number, car))
        lines["illustration"].append((rng.choice(by_series[car["series"]]), car))
        lines["search"].append((rng.choice(WORDS), car))
    return active, lines


def in_process(ctx_for, lines, seconds):
    """The reads as the service does them, one after another: milliseconds each, by kind."""
    times = {kind: [] for kind in lines}
    for kind, asked in lines.items():
        until = time.perf_counter() + seconds
        while time.perf_counter() < until:
            for value, car in asked:
                ctx, actor, query = ctx_for(car), {"operator_id": "bench", "user_id": "u"}, {
                    "vin": car["vin"], "language": "en"}
                started = time.perf_counter()
                if kind == "part":
                    use_cases.part(ctx, actor, value.replace("%20", " "), query)
                elif kind == "illustration":
                    use_cases.illustration(ctx, actor, value, query | {"explain": False})
                else:
                    use_cases.find(ctx, actor, query | {"q": value, "page": 1, "size": 20})
                times[kind].append((time.perf_counter() - started) * 1000)
    return times


def engine_only(index, lines, seconds):
    """The search engine's own query time for the same searches (the car's filters, no database, no HTTP)."""
    times, until = [], time.perf_counter() + seconds
    while time.perf_counter() < until:
        for words, car in lines:
            started = time.perf_counter()
            index.search(search.words(words), car=domain.Car.of(car), limit=20)
            times.append((time.perf_counter() - started) * 1000)
    return times


def main(argv=None):
    parser = system.parser(__doc__)
    parser.add_argument("--parts", type=int, default=200000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=8)
    opts = parser.parse_args(argv)
    registry = vehicles.generate(2000, seed=17)
    rng = random.Random(5)
    with system.running(opts.database_url, {"AOS_PARTS_SYNC_SECONDS": "0.5"}) as running:
        config = running.config()
        engine = make_engine(config["DATABASE_URLS"]["vehicle_data"])
        with Session(engine) as session, session.begin():
            feed.import_rows(session, feed.check(registry), datetime.now(timezone.utc))
        engine.dispose()
        started = time.perf_counter()
        made = demo_parts.write(running.data / "parts", opts.parts)
        generated = time.perf_counter() - started
        imported, peak_mb = timed_import(running.env, running.data / "parts")
        token, _ = system.workshop(running.base, 10000)
        auth = {"Authorization": f"Bearer {token}"}
        requests.post(f"{running.base}/api/v1/purchases", json={"tariff_code": "parts-1d"},
                      headers=auth | {"Idempotency-Key": "bench-parts"}, timeout=30).raise_for_status()
        car = registry["vehicles"][0]
        started = time.perf_counter()

        def switched():
            answer = requests.get(f"{running.base}/api/v1/parts/catalogue", params={"vin": car["vin"]},
                                  headers=auth, timeout=30)
            return answer.status_code == 200 and answer.json()["catalogue"].endswith(str(opts.parts)) \
                and answer.json()["access"]
        system.wait_until_true(switched, 900, "the parts service to index the catalogue and switch to it")
        indexed = time.perf_counter() - started
        url = config["DATABASE_URLS"]["parts"]
        active, lines = workload(url, registry["vehicles"], rng)
        files = {}
        for kind, asked in lines.items():
            files[kind] = running.data / f"{kind}.txt"
            files[kind].write_text("\n".join(
                f"{value}?vin={c['vin']}" if kind != "search" else urlencode({"q": value, "vin": c["vin"]})
                for value, c in asked))
        c, s = opts.concurrency, opts.seconds
        results = {
            "http GET /me (baseline)": running.load("http", running.base, token, "/api/v1/me", c, s),
            "http part by number": running.load("http", running.base, token, "/api/v1/parts/parts/{value}", c, s,
                                                files["part"]),
            "http illustration for a VIN": running.load("http", running.base, token,
                                                        "/api/v1/parts/illustrations/{value}", c, s,
                                                        files["illustration"]),
            "http search for a VIN": running.load("http", running.base, token, "/api/v1/parts/search?{value}", c, s,
                                                  files["search"]),
        }
        # the same reads in this process, on the same database and the service's own index folder
        engine = make_engine(url)
        Made = sessionmaker(engine, expire_on_commit=False)
        store = Store(Made, OutboxMessage, ProcessedEvent, on_commit=lambda emitted: None, facts=FACTS)
        settings = build(PartsSettings, config["ENVIRONMENT"])
        loaded = dependencies.load(settings, Made, active)
        index = loaded.index.index if isinstance(loaded.index, dependencies.OffTheHub) else loaded.index
        loaded.index = index
        with store.transaction() as uow:  # the in-process reader has parts access, as the bench's workshop
            use_cases.ACCESS.purchased(uow, {"entitlement_id": "bench", "operator_id": "bench", "scopes": ["parts"],
                                             "vin": None, "valid_from": datetime.now(timezone.utc),
                                             "valid_until": None})
        store_blobs = blobs.from_config(config)
        cars = {v["vin"]: v for v in registry["vehicles"]}

        def ctx_for(car):
            return use_cases.Context(store, loaded, datetime.now(timezone.utc), cars.get, lambda actor: "DE",
                                     lambda: [], store_blobs)
        local = in_process(ctx_for, lines, min(s, 8))
        engine_ms = engine_only(index, lines["search"], min(s, 8))
        engine.dispose()
    report(opts, made, generated, imported, peak_mb, indexed, active, results, local, engine_ms)


def report(opts, made, generated, imported, peak_mb, indexed, active, results, local, engine_ms):
    print(f"\nparts benchmark: {made} parts ({active.rows} catalogue rows; generated in {generated:.0f} s), "
          f"{os.cpu_count()} cores, {'PostgreSQL' if opts.database_url else 'SQLite'}, concurrency "
          f"{opts.concurrency}, {opts.seconds:g} s per path")
    print(f"import (check whole, then store; the package CLI): {imported:.1f} s, {made / imported:.0f} parts/s, "
          f"peak memory {peak_mb:.0f} MB")
    print(f"indexed by the running parts service and switched to: {indexed:.1f} s after the import, "
          f"{active.rows / indexed:.0f} rows/s")
    system.table(results, 30)
    for kind, times in list(local.items()) + [("engine search (tantivy)", engine_ms)]:
        p = {q: system.percentile(times, q) for q in (50, 95, 99)}
        print(f"{'in process: ' + kind:30} {len(times) / sum(times) * 1000:8.0f} {p[50]:8.1f} {p[95]:8.1f} "
              f"{p[99]:8.1f} {0:7d} {len(times):9d}")
    goals.cpu("parts", results)
    me = results["http GET /me (baseline)"]["p95_ms"]
    figures = {}
    for name, http, mine in (("part lookup", "http part by number", local["part"]),
                             ("illustration", "http illustration for a VIN", local["illustration"]),
                             ("search", "http search for a VIN", engine_ms)):
        gateway = results[http]["p95_ms"]
        figures[name] = {"gateway_p95_ms": gateway, "in_process_p95_ms": system.percentile(mine, 95),
                         "me_p95_ms": me}
        against = "the engine's own" if name == "search" else "the same read in process"
        print(f"{name}: gateway p95 {gateway:.1f} ms / {against} {system.percentile(mine, 95):.1f} ms = "
              f"{gateway / system.percentile(mine, 95):.1f}x; / GET /me p95 {me:.1f} ms = {gateway / me:.2f}x; "
              f"errors {results[http]['errors']}")
    goals.ratio("parts lookup / me p95", results["http part by number"]["p95_ms"] / me)
    goals.ratio("parts illustration / me p95", results["http illustration for a VIN"]["p95_ms"] / me)
    goals.ratio("parts search / me p95", results["http search for a VIN"]["p95_ms"] / me)
    print(json.dumps({"import_parts_per_s": made / imported, "import_peak_mb": peak_mb, **figures}))


if __name__ == "__main__":
    main()
