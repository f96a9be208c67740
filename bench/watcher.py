"""A partner system in a process of its own: subscribes to events as every AOS consumer does (@consumes, durable
queue, validated on receipt) and writes one line per delivery, duplicates included, with the moment it arrived.

    python -m bench.watcher <amqp uri> <out file> <event type> [<event type> ...]

Each line is JSON: {"id", "type", "time" (envelope time, when the fact was recorded), "received" (epoch s),
"data"}. Its own process, so the load generator's work does not delay what it measures."""
import sys

if __name__ == "__main__":  # its own process is green; a bench that imports it for `deliveries` is not
    import eventlet
    eventlet.monkey_patch()

import json  # noqa: E402
import time  # noqa: E402

from nameko.runners import ServiceRunner  # noqa: E402

from services.catalogue import CATALOGUE  # noqa: E402
from services.shared import config as settings  # noqa: E402
from services.shared.consumer import consumes  # noqa: E402


def watcher_class(out, event_types):
    def record(self, event):
        out.write(json.dumps({"id": event.id, "type": event.type, "time": event.time.timestamp(),
                              "received": time.time(), "data": event.data}, default=str) + "\n")
        out.flush()

    handlers = {f"on_{t}": consumes(CATALOGUE[t])(lambda self, event: record(self, event)) for t in event_types}
    return type("BenchWatcher", (), {"name": "bench_watcher", **handlers})


def main(argv):
    amqp_uri, path, *event_types = argv
    if not event_types:
        raise SystemExit(__doc__)
    with open(path, "a") as out:
        # on a cluster with quorum queues (AOS_QUORUM_QUEUES), the partner's queue is one too: a node lost loses
        # none of its deliveries
        runner = ServiceRunner({"AMQP_URI": amqp_uri, "QUORUM_QUEUES": settings.load()["QUORUM_QUEUES"]})
        runner.add_service(watcher_class(out, event_types))
        runner.start()  # returns once its queues are declared and consumed
        open(path + ".ready", "w").close()
        runner.wait()


def deliveries(path):
    """What the watcher has written so far."""
    try:
        with open(path) as lines:
            return [json.loads(line) for line in lines if line.endswith("\n")]
    except FileNotFoundError:
        return []


if __name__ == "__main__":
    main(sys.argv[1:])
