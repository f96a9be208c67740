"""How billing runs (services.shared.process): `python -m deploy.serve billing`."""
from services.shared.process import Process

PROCESS = Process("billing", "services.billing.service:BillingService", metrics_port=2)
