"""How audit runs (services.shared.process): `python -m deploy.serve audit`."""
from services.shared.process import Process

PROCESS = Process("audit", "services.audit.service:AuditService", metrics_port=8)
