"""Where a request's CPU goes: one path under load while py-spy samples the processes it touches, then the
functions that hold the most samples, inclusive (the function and what it calls) and by themselves. The cut
comes from this list, and `System.measured`'s CPU ms say what the cut saved.

    python -m bench.profile me [--processes gateway identity] [--seconds 10] [--concurrency 16]
    python -m bench.profile ping --processes identity

Paths: `me` (GET /api/v1/me), `me-rpc` (identity.me over RPC), `ping` (identity.ping over RPC). py-spy samples
from outside the process (ptrace): it needs root or CAP_SYS_PTRACE."""
import collections
import json
import shutil
import subprocess
import sys
import threading

from bench import system

PATHS = {
    "me": lambda running, token: ("http", running.base, token, "/api/v1/me"),
    "me-rpc": lambda running, token: ("rpc", running.amqp_uri, "identity.me", json.dumps([{"token": token}])),
    "ping": lambda running, token: ("rpc", running.amqp_uri, "identity.ping", "[]"),
}


def main(argv=None):
    parser = system.parser(__doc__)
    parser.add_argument("path", choices=sorted(PATHS))
    parser.add_argument("--processes", nargs="+", default=["gateway", "identity"])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--top", type=int, default=25)
    opts = parser.parse_args(argv)
    spy = shutil.which("py-spy") or str(__import__("pathlib").Path(sys.executable).with_name("py-spy"))
    with system.running(opts.database_url) as running:
        token, _ = system.workshop(running.base)
        outputs = {name: running.data / f"{name}.spy" for name in opts.processes}
        samplers = [subprocess.Popen([spy, "record", "--nonblocking", "--format", "raw", "--rate", "200",
                                      "--duration", str(int(opts.seconds)), "--pid", str(running.processes[name].pid),
                                      "--output", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    for name, out in outputs.items()]
        figures = {}
        loader = threading.Thread(target=lambda: figures.update(running.load(
            *PATHS[opts.path](running, token), opts.concurrency, opts.seconds + 2)))
        loader.start()
        for sampler in samplers:
            sampler.wait()
        loader.join()
        system.table({opts.path: figures})
        for name, out in outputs.items():
            report(name, out.read_text() if out.exists() else "", opts.top)


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
