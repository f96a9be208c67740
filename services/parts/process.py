"""How parts runs (services.shared.process): `python -m deploy.serve parts`."""
from services.shared.process import Process

PROCESS = Process("parts", "services.parts.service:PartsService", metrics_port=9)
