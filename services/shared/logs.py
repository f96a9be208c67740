"""Structured logs: one JSON object per line, each carrying the correlation id of what caused it.

The id comes in with a request (`X-Request-Id`, or a new one), travels with every RPC call in nameko's
headers, rides in each event's envelope (`correlationid`) and is taken up by the consumers, so one search
through the gateway, or one purchase and the facts it set off, can be followed across every service's log."""
import json
import logging
import re
import threading
import uuid
from datetime import datetime, timezone

from nameko.extensions import DependencyProvider

KEY = "correlation_id"
HEADER = "X-Request-Id"
_VALID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_local = threading.local()  # green-thread local under eventlet: one value per worker


def current():
    return getattr(_local, "value", None)


def adopt(value):
    _local.value = value


def accepted(value):
    """A caller's id if it is a sane one, else a new one: ids from outside are not trusted to be anything."""
    return value if isinstance(value, str) and _VALID.match(value) else str(uuid.uuid4())


class Correlation(DependencyProvider):
    """Every worker runs with a correlation id: the caller's (an RPC's headers, an event's envelope, the
    gateway's request), or a new one; RPC calls the worker makes pass it on."""

    def worker_setup(self, worker_ctx):
        value = worker_ctx.data.get(KEY)  # `data` is what nameko sends on with RPC calls (context_data is a copy)
        first = worker_ctx.args[0] if worker_ctx.args else None
        if not value and isinstance(first, dict):
            value = first.get("correlationid")  # an event's envelope
        if not value:
            value = getattr(first, "correlation_id", None)  # the gateway's request
        value = accepted(value)
        worker_ctx.data[KEY] = value
        adopt(value)

    def worker_teardown(self, worker_ctx):
        adopt(None)


class Stamp(logging.Filter):
    """Stamps each record with the correlation id of the green thread that logged it, when it is logged."""

    def filter(self, record):
        record.correlation_id = current()
        return True


class JsonFormatter(logging.Formatter):
    def __init__(self, service):
        super().__init__()
        self.service = service

    def format(self, record):
        line = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                "level": record.levelname, "service": self.service, "logger": record.name,
                "message": record.getMessage(), "correlation_id": getattr(record, "correlation_id", None)}
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure(service, level=logging.INFO):
    handler = logging.StreamHandler()
    handler.addFilter(Stamp())
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
