"""Prometheus metrics: every entrypoint of every service counted by outcome and timed.

Each service process serves /metrics on its own address (config METRICS_ADDRESSES); the gateway serves it on
its HTTP port as well.
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

# ---- what the business and the operators watch (deploy/grafana dashboards and deploy/prometheus alerts) ----
# Counted where the fact is committed, once per fact.
PURCHASES = Counter("aos_purchases_total", "Purchases by tariff", ["tariff"])
REVENUE = Counter("aos_revenue_net_cents_total", "Net revenue by tariff, in euro cents", ["tariff"])
ENTITLEMENTS_ACTIVE = Gauge("aos_entitlements_active", "Open access windows and packs by kind", ["kind"])
LOGIN_FAILURES = Counter("aos_login_failures_total", "Failed sign-ins (wrong password or code)")
LOGIN_THROTTLED = Counter("aos_login_throttled_total", "Sign-ins refused by throttling")
SEARCHES = Counter("aos_searches_total", "AIR searches, by whether the workshop had access", ["access"])
SEARCH_ZERO = Counter("aos_search_zero_results_total", "AIR searches that found nothing")
SEARCH_DURATION = Histogram("aos_search_duration_seconds", "AIR search time in the air service", buckets=FAST)
DOCUMENTS_VIEWED = Counter("aos_documents_viewed_total", "Technical documents opened, by type", ["type"])
SESSIONS = Gauge("aos_programming_sessions", "Programming sessions by state", ["state"])
SECONDS_ACTIVE = Counter("aos_programming_seconds_active_total", "Seconds programming clocks ran")
SECONDS_BILLED = Counter("aos_programming_seconds_billed_total", "Programming seconds billed")
FLASH_BYTES = Counter("aos_flash_bytes_total", "Bytes written to ECUs by completed flashes")
FLASH_SECONDS = Counter("aos_flash_seconds_total", "Seconds completed flashes took")
FLASH_FAILURES = Counter("aos_flash_failures_total", "Failed flashes by cause and side", ["cause", "side"])
HEARTBEATS = Counter("aos_agent_heartbeats_total", "Agent heartbeats received")
EXPIRY_LAG = Histogram("aos_programming_expiry_lag_seconds", "From the end of paid time to the session's expiry",
                       buckets=(.05, .1, .25, .5, 1, 2, 5, 10))
OUTBOX_LAG = Histogram("aos_outbox_lag_seconds", "From commit to the broker's confirm", ["service"], buckets=FAST)
OUTBOX_PENDING = Gauge("aos_outbox_pending", "Committed events not yet confirmed by the broker", ["service"])
CONSUMER_LAG = Histogram("aos_event_consume_lag_seconds", "From an event's recording to its handler",
                         ["service", "event_type"], buckets=FAST)
for _state in ("preflight", "ready", "running", "interrupted"):
    SESSIONS.labels(_state)

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
        CALLS.labels(service, entrypoint, outcome(exc_info[1] if exc_info else None)).inc()
        if started is not None:
            LATENCY.labels(service, entrypoint).observe(time.perf_counter() - started)
