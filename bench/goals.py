"""The goals of a `make bench` run in one place: each bench records what it measured (a ratio against a baseline
of the same run, the CPU milliseconds a request cost, a fault campaign's counts) in the run's figures file, and
`python -m bench.goals` prints them all at the end, each ratio with its goal and met or missed.

The file is AOS_BENCH_FIGURES (default var/bench/figures.jsonl); `make bench` empties it first, `make bench-faults`
keeps its campaigns in var/bench/faults.jsonl. A bench run by hand adds to it as well."""
import json
import operator
import os
import sys
import textwrap
from pathlib import Path

# the ratio goals: name -> (what it compares, "<=" or ">=", the goal)
GOALS = {
    "air gateway / engine p95": ("AIR search p95 through the gateway / the engine's p95 queried in process at the "
                                 "same concurrency (8)", "<=", 1.5),
    "air gateway / engine CPU per query": ("AIR search CPU ms per query, every process / the engine's in process",
                                           "<=", 1.5),
    "air search / me p95": ("AIR search p95 / GET /me p95 through the gateway, same run", "<=", 1.2),
    "parts lookup / me p95": ("part-number lookup p95 / GET /me p95 through the gateway, 200,000 parts", "<=", 1.5),
    "parts illustration / me p95": ("VIN-filtered illustration p95 / GET /me p95 through the gateway", "<=", 1.5),
    "parts search / me p95": ("parts search p95 / GET /me p95 through the gateway, VIN-filtered", "<=", 1.5),
    "me / ping rate": ("GET /me rate / bare identity.ping RPC rate", ">=", 0.8),
    "purchase / me rate": ("purchase rate / GET /me rate, same clients", ">=", 0.4),
    "purchase CPU ms": ("CPU ms per purchase, summed over every process, the broker and the database", "<", 10.0),
    "vehicle read's audit CPU ms": ("the audit service's CPU ms per vehicle read (its VehicleViewed recorded)", "<",
                                    1.0),
    "heartbeat p99 / interval (SQLite)": ("heartbeat p99 / the 2 s interval, 320 sessions, SQLite", "<=", 0.25),
    "heartbeat p99 / interval (PostgreSQL)": ("heartbeat p99 / the 2 s interval, 320 sessions, PostgreSQL", "<=",
                                              0.25),
    "expiry p99 s (SQLite)": ("expiry noticed after the paid time ended, p99 seconds, SQLite", "<", 1.0),
    "expiry p99 s (PostgreSQL)": ("expiry noticed after the paid time ended, p99 seconds, PostgreSQL", "<", 1.0),
}
COMPARE = {"<=": operator.le, ">=": operator.ge, "<": operator.lt}


def figures_file():
    return Path(os.environ.get("AOS_BENCH_FIGURES", "var/bench/figures.jsonl"))


def _append(entry):
    path = figures_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as out:
        out.write(json.dumps(entry) + "\n")


def verdict(name, value):
    _, op, goal = GOALS[name]
    return "met" if COMPARE[op](value, goal) else "MISSED"


def ratio(name, value):
    """A goal's measured value: recorded, and its line printed by the bench that measured it."""
    _, op, goal = GOALS[name]
    _append({"kind": "ratio", "name": name, "value": value})
    print(f"{name}: {value:.2f} (goal {op} {goal:g}: {verdict(name, value)})")


def cpu(bench, results):
    """What each path's request cost in CPU (System.measured), split by process."""
    for path, r in results.items():
        if "cpu_ms" in r:
            _append({"kind": "cpu", "bench": bench, "path": path, "cpu_ms": r["cpu_ms"], "rate": r["rate"],
                     "p95_ms": r["p95_ms"], "by": r.get("cpu_ms_by", {})})


def capacity(title, workshops, cores, ceiling):
    """What the workshop-day model found one node carries (bench.workshop_day); `ceiling`: every step held, so the
    node carries more than this."""
    _append({"kind": "capacity", "title": title, "workshops": workshops, "cores": cores, "ceiling": ceiling})


def campaign(title, counts, passed):
    """A fault campaign's counts and whether every rule held."""
    _append({"kind": "campaign", "title": title, "counts": counts, "passed": passed})


def read():
    path = figures_file()
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def main():
    """The run's table; a section only when the run measured something of its kind (`make bench-faults` runs
    campaigns alone)."""
    entries = read()
    kinds = {e["kind"] for e in entries}
    figures = bool(kinds & {"ratio", "cpu", "capacity"})  # a make bench run, not campaigns alone
    measured = {e["name"]: e["value"] for e in entries if e["kind"] == "ratio"}  # the last measurement wins
    print(f"\n==== every goal of the run ({figures_file()}) ====")
    if figures:
        for name, (what, op, goal) in GOALS.items():
            if name in measured:
                print(f"  {verdict(name, measured[name]):6}  {measured[name]:7.2f}  goal {op} {goal:<5g} {what}")
            else:
                print(f"  {'-':6}  {'':7}  goal {op} {goal:<5g} {what} (not measured in this run)")
    if "cpu" in kinds:
        print("\nCPU ms per request, summed over the gateway, the services, the broker and PostgreSQL when used; the "
              "three largest parts")
        costs = {(e["bench"], e["path"]): e for e in entries if e["kind"] == "cpu"}  # a bench run twice: its last
        for e in costs.values():
            parts = ", ".join(f"{n} {ms:.2f}" for n, ms in sorted(e["by"].items(), key=lambda x: -x[1])[:3])
            print(f"  {e['bench'] + ': ' + e['path']:66} {e['cpu_ms']:6.2f}  {e['rate']:7.1f}/s  ({parts})")
    if "capacity" in kinds:
        print("\nCapacity: workshops one node carries through the day (interactive p99 < 300 ms, heartbeats within "
              "25 % of their interval, no error)")
        for e in (e for e in entries if e["kind"] == "capacity"):
            print(f"  {e['workshops']:4d}{'+' if e['ceiling'] else ' '} workshops, {e['workshops'] / e['cores']:.1f} "
                  f"per core ({e['cores']} cores): {e['title']}")
    if "campaign" in kinds:
        print("\nFault campaigns")
        for e in (e for e in entries if e["kind"] == "campaign"):
            print(f"  {'YES' if e['passed'] else 'FAILED':6}  {e['title']}")
            counts = "; ".join(f"{k} {v}" for k, v in e["counts"].items())
            print(textwrap.fill(counts, 116, initial_indent=" " * 10, subsequent_indent=" " * 10))
    missed = [n for n in GOALS if n in measured and verdict(n, measured[n]) != "met"]
    failed = [e["title"] for e in entries if e["kind"] == "campaign" and not e["passed"]]
    said = f"{len(measured)} of {len(GOALS)} goals measured, {len(missed)} missed" \
        f"{': ' + ', '.join(missed) if missed else ''}; " if figures else ""
    print(f"\n{said}{len(failed)} fault campaign(s) failed")
    return 1 if failed else 0  # a missed ratio is a figure to report; a failed campaign lost or repeated something


if __name__ == "__main__":
    sys.exit(main())
