"""How partners runs (services.shared.process): `python -m deploy.serve partners`."""
from services.shared.process import Process

PROCESS = Process("partners", "services.partners.service:PartnersService", metrics_port=10)
