"""Benchmark: every service as one process, then as two (replicas on one PostgreSQL server and one broker), under
the same purchase load.

For 1 and 2 replicas it prints purchases/s, latency and CPU ms per purchase, and from a partner's deliveries how
many AccessPurchased arrived more than once or never. The fault campaigns against two replicas of every service
(bench.purchase_faults, bench.shop_faults and bench.programming_faults with `--replicas 2`) run in
`make bench-faults`.

    python -m bench.replicas [--purchases 400] [--clients 20] [--database-url postgresql://postgres@127.0.0.1:5432]
"""
import sys
from collections import Counter

from bench import goals, system, watcher
from bench.purchases import Buyers, drive
from deploy.ports import wait_for

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432"


def purchases(url, replicas, count, clients):
    per_client = count // clients
    with system.running(url, replicas=replicas) as running:
        deliveries = running.watch("AccessPurchased")
        buyers = Buyers(running.base, clients, per_client)
        accepted = buyers.accepted
        result = running.measured(lambda: drive(clients, per_client, buyers.buy))
        wait_for(lambda: set(accepted) <= {d["data"]["purchase_id"] for d in watcher.deliveries(deliveries)}, 120,
                 "every AccessPurchased to reach the partner")
        seen = Counter(d["data"]["purchase_id"] for d in watcher.deliveries(deliveries))
        result["duplicated"] = sum(1 for p in accepted if seen[p] > 1)
        result["lost"] = sum(1 for p in accepted if seen[p] == 0)
        result["processes"] = len([n for n in running.processes if n != "watcher"])
    return result


def main(argv=None):
    parser = system.parser(__doc__)
    parser.add_argument("--purchases", type=int, default=400)
    parser.add_argument("--clients", type=int, default=20)
    opts = parser.parse_args(argv)
    url = opts.database_url or DEFAULT_SERVER
    results = {f"purchases, {r} replica(s)": purchases(url, r, opts.purchases, opts.clients) for r in (1, 2)}
    print(f"\nReplicas: {opts.purchases} purchases by {opts.clients} clients, PostgreSQL, every service x1 then x2")
    system.table(results, width=30)
    for name, r in results.items():
        print(f"  {name}: {r['processes']} processes, AccessPurchased duplicated {r['duplicated']}, lost {r['lost']}")
    one, two = results.values()
    print(f"  throughput with 2 replicas / 1 replica: {two['rate'] / one['rate']:.2f} "
          f"(CPU ms per purchase {one['cpu_ms']:.1f} -> {two['cpu_ms']:.1f}; this machine has 2 cores)")
    failed = any(r["duplicated"] or r["lost"] or r["errors"] for r in results.values())
    goals.campaign(f"Replicas: {opts.purchases} purchases by {opts.clients} clients, every service x1 then x2, "
                   "PostgreSQL", {f"{name}: {k}": (round(r[k], 1) if k == "rate" else r[k]) for name, r in
                                  results.items() for k in ("rate", "lost", "duplicated", "errors")}, not failed)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
