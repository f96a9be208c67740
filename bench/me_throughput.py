"""Benchmark: authenticated GET /api/v1/me through the gateway against the raw nameko RPC rate, in one run.

Starts every service and the gateway as processes of their own (bench.system) on a vhost and data folder of
this run, signs a workshop in, then drives, one after the other, with the same kind of client at the same
concurrency:
  1. rpc identity.ping   the barest nameko round trip
  2. rpc identity.me     the same call the gateway makes for /me
  3. http GET /me        the whole gateway path: HTTP, token check, RPC, JSON
  4. the same with wrk, when it is installed (a C client: less of the two cores goes to the load generator)
and prints requests/s, p50/p95/p99, errors, and the gateway's rate as a share of each RPC rate.

    python -m bench.me_throughput [--seconds 10] [--concurrency 32] [--database-url postgresql://...]
"""
import json
import os
import shutil
import subprocess
from pathlib import Path

from bench import goals, system

TARGET_P99_MS = 50.0


def wrk(base, token, concurrency, seconds):
    script = Path(__file__).with_name("wrk_report.lua")
    out = subprocess.run(["wrk", "-t1", f"-c{concurrency}", f"-d{int(seconds)}s", "-s", str(script),
                          "-H", f"Authorization: Bearer {token}", f"{base}/api/v1/me"],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.split("JSON ", 1)[1])


def main(argv=None):
    parser = system.parser(__doc__)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=32)
    opts = parser.parse_args(argv)
    with system.running(opts.database_url) as running:
        token, _ = system.workshop(running.base)
        c, s, amqp = opts.concurrency, opts.seconds, running.amqp_uri
        results = {
            "rpc identity.ping": running.load("rpc", amqp, "identity.ping", "[]", c, s),
            # as the gateway hands it: the caller's token, from which identity takes the user
            "rpc identity.me": running.load("rpc", amqp, "identity.me", json.dumps([{"token": token}]), c, s),
            "http GET /api/v1/me": running.load("http", running.base, token, "/api/v1/me", c, s),
        }
        if shutil.which("wrk"):  # a lean C client beside the Python one: what the path does with less noise
            results["http GET /me (wrk)"] = wrk(running.base, token, c, s)
    report(results, opts)


def report(results, opts):
    print(f"\nGET /api/v1/me benchmark: concurrency {opts.concurrency}, {opts.seconds:g} s per path, "
          f"{os.cpu_count()} cores, identity on {'PostgreSQL' if opts.database_url else 'SQLite'}")
    system.table(results, 24)
    goals.cpu("me_throughput", results)
    gateway = results["http GET /api/v1/me"]
    print(f"gateway rate / rpc identity.me rate: {gateway['rate'] / results['rpc identity.me']['rate']:.2f}")
    goals.ratio("me / ping rate", gateway["rate"] / results["rpc identity.ping"]["rate"])
    print(f"gateway p99 {gateway['p99_ms']:.1f} ms (target < {TARGET_P99_MS:.0f} ms: "
          f"{'met' if gateway['p99_ms'] < TARGET_P99_MS else 'MISSED'}); errors {gateway['errors']} "
          f"(target 0: {'met' if gateway['errors'] == 0 else 'MISSED'})")


if __name__ == "__main__":
    main()
