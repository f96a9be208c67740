"""How air runs (services.shared.process): `python -m deploy.serve air`."""
from services.shared.process import Process

PROCESS = Process("air", "services.air.service:AirService", metrics_port=5)
