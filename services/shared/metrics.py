"""Prometheus plumbing: every entrypoint of every service counted by outcome and timed, the outbox and consumer
lag, and the /metrics listener. Each service's business metrics live in its own metrics.py.

Each process, the gateway's too, serves /metrics on an address of its own (config METRICS_ADDRESSES), which the
public port does not serve.
"""
import logging
import time

from nameko.extensions import DependencyProvider
import eventlet
import eventlet.wsgi
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest, make_wsgi_app

from services.shared.errors import AosError

log = logging.getLogger(__name__)

CALLS = Counter("aos_entrypoint_calls_total", "Entrypoint calls by outcome",
                ["service", "entrypoint", "outcome"])
LATENCY = Histogram("aos_entrypoint_duration_seconds", "Entrypoint latency",
                    ["service", "entrypoint"],
                    buckets=(.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))
FAST = (.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5)

# ---- what the platform's own plumbing does: every service's outbox and consumers ----
OUTBOX_LAG = Histogram("aos_outbox_lag_seconds", "From commit to the broker's confirm", ["service"], buckets=FAST)
OUTBOX_PENDING = Gauge("aos_outbox_pending", "Committed events not yet confirmed by the broker", ["service"])
CONSUMER_LAG = Histogram("aos_event_consume_lag_seconds", "From an event's recording to its handler",
                         ["service", "event_type"], buckets=FAST)


_CHILDREN = {}


def labelled(metric, *values):
    """`metric.labels(*values)`, looked up once: prometheus_client takes a lock and checks the values on every
    call, a cost every request of every service paid several times over."""
    key = (metric, values)
    child = _CHILDREN.get(key)
    if child is None:
        child = _CHILDREN[key] = metric.labels(*values)
    return child


def outcome(exc):
    """ok, a refusal the caller can act on (client_error), or our fault (server_error)."""
    if exc is None:
        return "ok"
    if isinstance(exc, AosError) and exc.status < 500:
        return "client_error"
    return "server_error"


def exposition():
    return generate_latest(), CONTENT_TYPE_LATEST


class Metrics(DependencyProvider):
    """Counts and times every entrypoint of its service, and serves /metrics on the service's address."""

    def __init__(self):
        self._started = {}
        self._server = None
        self._socket = None

    def start(self):
        address = self.container.config.get("METRICS_ADDRESSES", {}).get(self.container.service_name)
        if address:
            host, _, port = address.rpartition(":")
            self._socket = eventlet.listen((host, int(port)))
            self._server = eventlet.spawn(eventlet.wsgi.server, self._socket, make_wsgi_app(), log_output=False)
            log.info("%s metrics on http://%s/metrics", self.container.service_name, address)

    def stop(self):
        if self._server is not None:
            self._server.kill()
            self._socket.close()
            self._server = self._socket = None

    kill = stop

    def worker_setup(self, worker_ctx):
        self._started[worker_ctx] = time.perf_counter()

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        started = self._started.pop(worker_ctx, None)
        service, entrypoint = self.container.service_name, worker_ctx.entrypoint.method_name
        labelled(CALLS, service, entrypoint, outcome(exc_info[1] if exc_info else None)).inc()
        if started is not None:
            labelled(LATENCY, service, entrypoint).observe(time.perf_counter() - started)
