"""Benchmark: GET /api/v1/vehicles/{vin} through the gateway at concurrency 16, with 50,000 vehicles in the
registry, against the same run's raw RPC round trips (vehicle_data.ping, and vehicle_data.vehicle: the call the
gateway makes). Every request asks for another VIN of 2,000 drawn from the registry, by a workshop with access
(so build data and ECUs are read, not only the VIN decoded). Prints requests/s and p50/p95/p99 per path, and the gateway path once more with a single client.

    python -m bench.vehicle_lookup [--vehicles 50000] [--seconds 10] [--concurrency 16] [--database-url ...]
"""
import json
import os
import random
import time
from datetime import datetime, timezone

import requests
from sqlalchemy.orm import Session

from bench import goals, system
from services.shared.database import make_engine
from deploy import vehicles
from services.vehicle_data import feed

TARGET_P95_MS = 20.0


def main(argv=None):
    parser = system.parser(__doc__)
    parser.add_argument("--vehicles", type=int, default=50000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=16)
    opts = parser.parse_args(argv)
    document = vehicles.generate(opts.vehicles, seed=11)
    with system.running(opts.database_url) as running:
        started = time.perf_counter()
        engine = make_engine(running.config()["DATABASE_URLS"]["vehicle_data"])
        with Session(engine) as session, session.begin():
            feed.import_rows(session, feed.check(document), datetime.now(timezone.utc))
        engine.dispose()
        imported = time.perf_counter() - started
        token, _ = system.workshop(running.base, 10000)
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "bench-access"}
        requests.post(f"{running.base}/api/v1/purchases", json={"tariff_code": "air-1d"}, headers=headers,
                      timeout=30).raise_for_status()
        vins = [v["vin"] for v in random.Random(5).sample(document["vehicles"], 2000)]
        system.wait_until_true(lambda: requests.get(f"{running.base}/api/v1/vehicles/{vins[0]}", timeout=10,
                                                    headers=headers).json()["access"], 30, "access to arrive")
        values = running.data / "vins.txt"
        values.write_text("\n".join(vins))
        actor = json.dumps({"token": token})  # as the gateway hands it: the service takes the user from the token
        c, s, amqp = opts.concurrency, opts.seconds, running.amqp_uri
        results = {
            "rpc vehicle_data.ping": running.load("rpc", amqp, "vehicle_data.ping", "[]", c, s),
            "rpc vehicle_data.vehicle": running.load("rpc", amqp, "vehicle_data.vehicle",
                                                    f'[{actor}, "{{value}}"]', c, s, values),
            "http GET /vehicles/{vin}": running.load("http", running.base, token, "/api/v1/vehicles/{value}", c, s,
                                                    values),
            # one client alone: what a request costs when nothing queues in front of it
            "http GET, concurrency 1": running.load("http", running.base, token, "/api/v1/vehicles/{value}", 1, s,
                                                   values),
        }
    report(opts, imported, results)


def report(opts, imported, results):
    print(f"\nVehicle lookup benchmark: {opts.vehicles} vehicles in the registry (feed checked and imported in "
          f"{imported:.1f} s), concurrency {opts.concurrency}, {opts.seconds:g} s per path, {os.cpu_count()} cores, "
          f"{'PostgreSQL' if opts.database_url else 'SQLite'}")
    system.table(results, 28)
    goals.cpu("vehicle_lookup", results)
    gateway, rpc = results["http GET /vehicles/{vin}"], results["rpc vehicle_data.vehicle"]
    goals.ratio("vehicle read's audit CPU ms", gateway["cpu_ms_by"]["audit"])
    print(f"gateway p95 / RPC p95: {gateway['p95_ms'] / rpc['p95_ms']:.2f}; gateway rate / RPC rate: "
          f"{gateway['rate'] / rpc['rate']:.2f}")
    print(f"gateway p95 {gateway['p95_ms']:.1f} ms (target < {TARGET_P95_MS:.0f} ms: "
          f"{'met' if gateway['p95_ms'] < TARGET_P95_MS else 'MISSED'}); errors {gateway['errors']}")


if __name__ == "__main__":
    main()
