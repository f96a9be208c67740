"""How programming runs (services.shared.process): `python -m deploy.serve programming`. What agents call has a
queue of its own (the agents' lane), so a heartbeat never waits behind the workshops' calls."""
from services.programming import AGENTS
from services.shared.process import Process

PROCESS = Process("programming", "services.programming.service:ProgrammingService", metrics_port=6, lanes=(AGENTS,))
