"""How identity runs (services.shared.process): `python -m deploy.serve identity`."""
from services.shared.process import Process

PROCESS = Process("identity", "services.identity.service:IdentityService", metrics_port=1)
