"""Benchmark: what partners cost and how they hold. On a running system with the demo library and registry:

- the key check: a car read (GET /vehicles/{vin}) through the gateway with a user's token and with an API key, the
  same clients and concurrency: what the key's check (partners' RPC: the key, its scope, its count and rate, the
  proof signed; the proof verified by the gateway and the service) adds per request, in CPU and in p95;
- an export: the whole library as gzip NDJSON through the gateway (documents/s, MB/s of NDJSON and on the wire)
  against reading the same rows in process and writing the same lines (no broker, no HTTP);
- webhooks: purchases made one after another, each AccessPurchased delivered to the demo receiver, from the fact's
  time to the receiver's (p50, p99); then the receiver taken down for --down-seconds while purchases go on, brought
  back, and every AccessPurchased counted: each delivered once, every signature verified.

    python -m bench.partners [--documents 20000] [--seconds 10] [--concurrency 8] [--down-seconds 300]

`make bench` takes the receiver down for 10 s; `make bench-faults` for the five minutes.
"""
import gzip
import json
import os
import random
import sys
import time
import uuid
from datetime import datetime, timezone

import orjson
import requests
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bench import goals, system
from deploy import corpus, receiver, vehicles
from deploy.ports import free_port
from services.air import content, domain
from services.air.models import Document
from services.partners.models import Attempt
from services.shared import blobs
from services.shared.database import make_engine
from services.vehicle_data import feed


def in_process_export(url):
    """The library's current documents read and written as the export's lines, in this process: seconds, bytes."""
    engine = make_engine(url)
    started, size, count = time.perf_counter(), 0, 0
    with Session(engine) as session:
        for row in session.scalars(select(Document).order_by(Document.revision).execution_options(yield_per=500)):
            if row.withdrawn_at is None:
                size += len(orjson.dumps(domain.exported(row)) + b"\n")
                count += 1
    engine.dispose()
    return time.perf_counter() - started, size, count


def export_through_gateway(base, key):
    started = time.perf_counter()
    answer = requests.get(f"{base}/api/v1/exports/air", headers={"Authorization": f"Bearer {key}",
                                                                 "Accept-Encoding": "gzip"}, stream=True, timeout=600)
    answer.raise_for_status()
    wire = answer.raw.read()
    took = time.perf_counter() - started
    lines = gzip.decompress(wire).splitlines()
    assert json.loads(lines[-1]).get("end"), lines[-1][:200]
    return took, len(wire), sum(len(line) + 1 for line in lines), len(lines) - 1


def purchases(folder):
    return [r for r in receiver.read(folder) if r["event"]["type"] == "AccessPurchased"]


def latency_ms(kept):
    return [(datetime.fromisoformat(r["received_at"]) - datetime.fromisoformat(r["event"]["time"])).total_seconds()
            * 1000 for r in kept]


def main(argv=None):
    parser = system.parser(__doc__)
    parser.add_argument("--documents", type=int, default=20000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--purchases", type=int, default=200, help="purchases timed from fact to receiver")
    parser.add_argument("--down-seconds", type=float, default=300, help="how long the receiver is down")
    opts = parser.parse_args(argv)
    registry = vehicles.generate(2000, seed=23)
    env = {"AOS_KEY_REQUESTS_PER_MINUTE": "100000", "AOS_AIR_SYNC_SECONDS": "0.5"}
    with system.running(opts.database_url, env, replicas=opts.replicas) as running:
        config = running.config()
        engine = make_engine(config["DATABASE_URLS"]["vehicle_data"])
        with Session(engine) as session, session.begin():
            feed.import_rows(session, feed.check(registry), datetime.now(timezone.utc))
        engine.dispose()
        corpus.write(running.data / "library", opts.documents)
        store = blobs.from_config(config)
        store.ensure_bucket()
        engine = make_engine(config["DATABASE_URLS"]["air"])
        content.import_package(running.data / "library", engine, store)
        engine.dispose()
        buys = opts.purchases + int(opts.down_seconds * 2) + 50
        token, _ = system.workshop(running.base, 1071 * buys + 5000)
        auth = {"Authorization": f"Bearer {token}"}
        system.purchase(requests, running.base, token, "bench-partners-day", "air-1d").raise_for_status()
        key = requests.post(f"{running.base}/api/v1/keys", headers=auth, timeout=30, json={
            "name": "bench mirror", "scopes": ["air", "vehicles"]}).json()["key"]
        vins = running.data / "vins.txt"
        vins.write_text("\n".join(v["vin"] for v in random.Random(3).sample(registry["vehicles"], 400)))
        system.wait_until_true(lambda: requests.get(f"{running.base}/api/v1/vehicles/{registry['vehicles'][0]['vin']}",
                                                    headers={"Authorization": f"Bearer {key}"},
                                                    timeout=30).json()["access"], 60, "vehicle data to hear of access")
        c, s = opts.concurrency, opts.seconds
        results = {
            "car read, user's token": running.load("http", running.base, token, "/api/v1/vehicles/{value}", c, s,
                                                   vins),
            "car read, API key": running.load("http", running.base, key, "/api/v1/vehicles/{value}", c, s, vins),
        }
        system.wait_until_true(lambda: requests.get(f"{running.base}/api/v1/feeds/air", params={"after": 0},
                                                    headers={"Authorization": f"Bearer {key}"}, stream=True,
                                                    timeout=30).status_code == 200, 60, "AIR to hear of access")
        gateway_export = export_through_gateway(running.base, key)
        local_export = in_process_export(config["DATABASE_URLS"]["air"])

        # webhooks: the demo receiver, an endpoint for the workshop's purchases
        folder, port = running.data / "receiver", free_port()
        folder.mkdir()
        partner = receiver.start(folder, port)
        hook = requests.post(f"{running.base}/api/v1/webhooks", headers=auth, timeout=30, json={
            "url": f"http://127.0.0.1:{port}/aos", "event_types": ["AccessPurchased"]}).json()
        (folder / "secrets").write_text(hook["secret"] + "\n")
        http = requests.Session()
        for _ in range(opts.purchases):
            system.purchase(http, running.base, token, str(uuid.uuid4())).raise_for_status()
        system.wait_until_true(lambda: len(purchases(folder)) >= opts.purchases, 120, "the purchases' webhooks")
        timed = latency_ms(purchases(folder))

        partner.terminate()
        partner.wait(timeout=10)
        down_at, made = time.monotonic(), 0
        while time.monotonic() - down_at < opts.down_seconds:  # purchases go on, two a second, while it is down
            system.purchase(http, running.base, token, str(uuid.uuid4())).raise_for_status()
            made += 1
            time.sleep(max(0.0, down_at + made / 2 - time.monotonic()))
        partner = receiver.start(folder, port)
        up_at = time.monotonic()
        expected = opts.purchases + made
        system.wait_until_true(lambda: len(purchases(folder)) >= expected, 4 * opts.down_seconds + 120,
                               "every purchase made while the receiver was down")
        caught_up = time.monotonic() - up_at
        time.sleep(3)  # anything sent twice would have come by now
        kept = purchases(folder)
        refused = (folder / "refused.jsonl").read_text().splitlines() if (folder / "refused.jsonl").exists() else []
        partner.terminate()
        # the delivery log from partners' database: the owner's access token has expired by now (15 minutes)
        engine = make_engine(config["DATABASE_URLS"]["partners"])
        with Session(engine) as session:
            attempts = session.scalar(select(func.count()).select_from(Attempt))
        engine.dispose()
    return report(opts, results, gateway_export, local_export, timed, expected, kept, refused, made, caught_up,
                  attempts)


def report(opts, results, gateway_export, local_export, timed, expected, kept, refused, made, caught_up, attempts):
    print(f"\npartners benchmark: {os.cpu_count()} cores, {'PostgreSQL' if opts.database_url else 'SQLite'}, "
          f"concurrency {opts.concurrency}, {opts.seconds:g} s per path")
    system.table(results, 26)
    goals.cpu("partners", results)
    user, keyed = results["car read, user's token"], results["car read, API key"]
    print(f"the key's check: {keyed['cpu_ms'] - user['cpu_ms']:.2f} CPU ms per request over every process "
          f"({keyed['cpu_ms_by'].get('partners', 0):.2f} in partners); p95 {keyed['p95_ms']:.1f} ms against "
          f"{user['p95_ms']:.1f} ms with a user's token ({keyed['p95_ms'] / user['p95_ms']:.2f}x); "
          f"errors {keyed['errors']}")
    took, wire, size, count = gateway_export
    here, here_size, here_count = local_export
    print(f"export of {count} documents through the gateway: {took:.1f} s, {count / took:.0f} documents/s, "
          f"{size / took / 1e6:.1f} MB/s of NDJSON ({wire / took / 1e6:.2f} MB/s gzip on the wire, "
          f"{size / wire:.1f}x smaller)")
    print(f"the same rows read and written in process: {here:.1f} s, {here_count / here:.0f} documents/s, "
          f"{here_size / here / 1e6:.1f} MB/s: the gateway's export runs at {(count / took) / (here_count / here):.2f} "
          f"of it")
    print(f"webhook delivery, fact to receiver ({len(timed)} purchases one after another): "
          f"p50 {system.percentile(timed, 50):.0f} ms, p99 {system.percentile(timed, 99):.0f} ms")
    ids = [r["event"]["id"] for r in kept]
    twice = len(ids) - len(set(ids))
    print(f"receiver down {opts.down_seconds:g} s while {made} purchases were made, then back: "
          f"{len(kept)} of {expected} AccessPurchased received, {twice} twice, "
          f"{len(refused)} signatures refused; all in {caught_up:.0f} s after it came back "
          f"({attempts} attempts logged for {expected} deliveries)")
    delivered = len(set(ids)) == expected and not twice and not refused
    goals.campaign(f"Webhooks: a partner's receiver down {opts.down_seconds:g} s while purchases go on",
                   {"AccessPurchased made": expected, "received": len(set(ids)), "received twice": twice,
                    "signatures refused": len(refused), "seconds to catch up": round(caught_up)}, delivered)
    print(json.dumps({"key_check_cpu_ms": keyed["cpu_ms"] - user["cpu_ms"], "export_docs_per_s": count / took,
                      "export_mb_per_s": size / took / 1e6, "in_process_docs_per_s": here_count / here,
                      "webhook_p99_ms": system.percentile(timed, 99), "received": len(kept), "expected": expected,
                      "duplicates": twice, "refused": len(refused)}))
    return 0 if delivered else 1


if __name__ == "__main__":
    sys.exit(main())
