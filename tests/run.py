"""Every test but the browser's, in shards run side by side (each its own pytest process, with its own databases,
vhosts and session fixtures), then the ten slowest tests of all of them. `make test` runs it.

    python -m tests.run [--shards 2] [PYTEST ARGS...]

Why not pytest-xdist: its controller and workers talk through execnet's threads, which eventlet's patched standard
library (the root conftest.py's, which nameko needs) leaves hanging at "bringing up nodes". Files are dealt to the
shards by how long they took in the last run here (var/test-times.json), else by how many tests they hold,
weighted by tier; a file stays whole, so its module fixtures are made once."""
import argparse
import json
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPORTS = ROOT / "var" / "test-reports"
TIMES = ROOT / "var" / "test-times.json"
TIER_SECONDS = {"unit": 0.05, "conformance": 0.3, "integration": 0.6, "e2e": 2.5}  # a test's weight, no history


def collected(pytest_args):
    """{test file: number of tests} as pytest collects them."""
    listed = subprocess.run([sys.executable, "-m", "pytest", "tests", "--collect-only", "-q", *pytest_args],
                            cwd=ROOT, capture_output=True, text=True)
    counts = {}
    for line in listed.stdout.splitlines():
        if "::" in line:
            path = line.split("::", 1)[0]
            counts[path] = counts.get(path, 0) + 1
    if not counts:
        raise SystemExit(listed.stdout + listed.stderr)
    return counts


def dealt(counts, shards):
    """The files in `shards` groups of about equal time, the longest first (greedy)."""
    known = json.loads(TIMES.read_text()) if TIMES.exists() else {}
    weight = {f: known.get(f, n * TIER_SECONDS.get(Path(f).parts[1], 1.0)) for f, n in counts.items()}
    groups = [[] for _ in range(shards)]
    loads = [0.0] * shards
    for path in sorted(weight, key=weight.get, reverse=True):
        lightest = loads.index(min(loads))
        groups[lightest].append(path)
        loads[lightest] += weight[path]
    return [g for g in groups if g]


def cases(report):
    """(file, test id, seconds, outcome) of each test case in a junit report."""
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        path = case.get("classname", "").replace(".", "/") + ".py"
        outcome = "failed" if case.find("failure") is not None or case.find("error") is not None else (
            "skipped" if case.find("skipped") is not None else "passed")
        yield path, f"{path}::{case.get('name')}", float(case.get("time") or 0), outcome


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--shards", type=int, default=int(os.environ.get("AOS_TEST_SHARDS", "2")))
    opts, pytest_args = parser.parse_known_args(argv)
    REPORTS.mkdir(parents=True, exist_ok=True)
    groups = dealt(collected(pytest_args), max(1, opts.shards))
    started = time.monotonic()
    running = []
    for i, files in enumerate(groups):
        report, log = REPORTS / f"shard-{i}.xml", REPORTS / f"shard-{i}.log"
        command = [sys.executable, "-m", "pytest", *files, "-q", f"--junitxml={report}", *pytest_args]
        running.append((i, files, report, log, subprocess.Popen(command, cwd=ROOT, stdout=open(log, "w"),
                                                                stderr=subprocess.STDOUT)))
    print(f"{sum(len(g) for g in groups)} test files in {len(groups)} shards side by side (logs in "
          f"{REPORTS.relative_to(ROOT)})", flush=True)
    failed, every, times = False, [], {}
    for i, files, report, log, process in running:
        process.wait()
        summary = log.read_text(errors="replace").strip().splitlines()[-1:] or ["(no output)"]
        print(f"shard {i} ({len(files)} files): {summary[0]}", flush=True)
        if process.returncode != 0:
            failed = True
            print(log.read_text(errors="replace")[-6000:], flush=True)  # its failures, as pytest told them
        if report.exists():
            for path, test, seconds, outcome in cases(report):
                every.append((seconds, test, outcome))
                times[path] = times.get(path, 0.0) + seconds
    if times:
        TIMES.write_text(json.dumps(times, indent=1, sort_keys=True))
    print(f"\nthe ten slowest tests of {len(every)}:")
    for seconds, test, outcome in sorted(every, reverse=True)[:10]:
        print(f"  {seconds:7.2f} s  {test}{'' if outcome == 'passed' else '  (' + outcome + ')'}")
    print(f"\nall shards: {time.monotonic() - started:.0f} s, "
          f"{sum(1 for *_, o in every if o == 'passed')} passed, {sum(1 for *_, o in every if o == 'failed')} failed, "
          f"{sum(1 for *_, o in every if o == 'skipped')} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
