"""Where a request's CPU goes: one path under load while py-spy samples the processes it touches, then the
functions that hold the most samples, inclusive (the function and what it calls) and by themselves. The cut
comes from this list, and `System.measured`'s CPU ms say what the cut saved.

    python -m bench.profile me [--processes gateway identity] [--seconds 10] [--concurrency 16]
    python -m bench.profile ping --processes identity
    python -m bench.profile purchase --processes billing audit
    python -m bench.profile vehicle --processes vehicle_data audit

Paths: `me` (GET /api/v1/me), `me-rpc` (identity.me over RPC), `ping` (identity.ping over RPC), `purchase` (POST
/api/v1/purchases, an hour of AIR, a fresh Idempotency-Key each), `vehicle` (GET /api/v1/vehicles/{vin} by a
workshop with access, 200 cars in turn). py-spy samples
from outside the process (ptrace): it needs root or CAP_SYS_PTRACE."""
import collections
import contextlib
import json
import shutil
import subprocess
import sys
import threading
from datetime import datetime, timezone
from pathlib import Path

import requests
from sqlalchemy.orm import Session

from bench import system
from deploy import vehicles
from services.shared.database import make_engine
from services.vehicle_data import feed

def _purchases(running):
    token, _ = system.workshop(running.base, 3_000_000)
    return "post", running.base, token, '/api/v1/purchases:{"tariff_code": "air-1h"}'


def _vehicles(running):
    """200 cars in the registry and a workshop that bought technical information: build data and ECUs are read."""
    document = vehicles.generate(200, seed=3)
    engine = make_engine(running.config()["DATABASE_URLS"]["vehicle_data"])
    with Session(engine) as session, session.begin():
        feed.import_rows(session, feed.check(document), datetime.now(timezone.utc))
    engine.dispose()
    token, _ = system.workshop(running.base, 10000)
    system.purchase(requests, running.base, token, "profile", "air-1d").raise_for_status()
    return "http", running.base, token, "/api/v1/vehicles/{value}", [v["vin"] for v in document["vehicles"]]


# each path: what bench.load is given (its kind, target, who, what), and the values it takes in turn, if any
PATHS = {
    "me": lambda running: ("http", running.base, system.workshop(running.base)[0], "/api/v1/me"),
    "me-rpc": lambda running: ("rpc", running.amqp_uri, "identity.me",
                               json.dumps([{"token": system.workshop(running.base)[0]}])),
    "ping": lambda running: ("rpc", running.amqp_uri, "identity.ping", "[]"),
    "purchase": _purchases,
    "vehicle": _vehicles,
}


def main(argv=None):
    parser = system.parser(__doc__)
    parser.add_argument("path", choices=sorted(PATHS))
    parser.add_argument("--processes", nargs="+", default=["gateway", "identity"])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--top", type=int, default=25)
    opts = parser.parse_args(argv)
    with system.running(opts.database_url) as running:
        target = PATHS[opts.path](running)
        if len(target) == 5:  # with values: a file of them, one a line
            values = running.data / "values.txt"
            values.write_text("\n".join(target[4]))
            target = target[:4]
        else:
            values = None
        figures = {}
        loader = threading.Thread(target=lambda: figures.update(running.load(
            *target, opts.concurrency, opts.seconds + 2, *([values] if values else []))))
        with sampled(running, opts.processes, opts.seconds) as stacks:
            loader.start()
        loader.join()
        system.table({opts.path: figures})
        for name, collapsed in stacks.items():
            report(name, collapsed, opts.top)


@contextlib.contextmanager
def sampled(running, names, seconds, rate=200):
    """py-spy samples these processes of the system for `seconds` from the moment the body starts; yields a dict
    filled, once the sampling ended, with each one's collapsed stacks (for `report`)."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    outputs = {name: running.data / f"{name}.spy" for name in names}
    samplers = [subprocess.Popen([spy, "record", "--nonblocking", "--format", "raw", "--rate", str(rate), "--duration",
                                  str(int(seconds)), "--pid", str(running.processes[name].pid), "--output", str(out)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                for name, out in outputs.items()]
    stacks = {}
    yield stacks
    for sampler in samplers:
        sampler.wait(timeout=seconds + 30)
    stacks.update({name: out.read_text() if out.exists() else "" for name, out in outputs.items()})


def report(name, collapsed, top):
    """py-spy's collapsed stacks ("frame;frame;... count") as the top functions, inclusive and self."""
    inclusive, alone, total = collections.Counter(), collections.Counter(), 0
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():  # py-spy cut off mid-line (the process it sampled exited)
            continue
        frames, n = stack.split(";"), int(count)
        total += n
        for frame in set(frames):
            inclusive[frame] += n
        alone[frames[-1]] += n
    print(f"\n{name}: {total} samples")
    if not total:
        return
    for title, counter in (("inclusive", inclusive), ("self", alone)):
        print(f"  {title}:")
        for frame, n in counter.most_common(top):
            print(f"    {100 * n / total:5.1f} %  {frame}")


if __name__ == "__main__":
    main()
