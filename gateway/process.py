"""How the gateway runs (services.shared.process): `python -m deploy.serve gateway`. No database of its own; its
pool leaves each lane of requests (gateway.http.LANES) its own AOS_GATEWAY_MAX_WORKERS, and room for its timers."""
from gateway.http import LANES
from gateway.settings import GatewaySettings
from services.shared.config import build
from services.shared.process import Process


def pool_size(environ):
    return build(GatewaySettings, environ).max_workers * len(LANES) + 8


PROCESS = Process("gateway", "gateway.service:GatewayService", metrics_port=7, database=False, workers=pool_size)
