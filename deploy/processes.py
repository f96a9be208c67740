"""What AOS runs: each process's own declaration (its process.py), in the order of their metrics ports. The
launcher starts these, `python -m deploy.serve NAME` runs one, the broker's grants are read off their code."""
from gateway.process import PROCESS as GATEWAY
from services.air.process import PROCESS as AIR
from services.audit.process import PROCESS as AUDIT
from services.billing.process import PROCESS as BILLING
from services.identity.process import PROCESS as IDENTITY
from services.partners.process import PROCESS as PARTNERS
from services.parts.process import PROCESS as PARTS
from services.programming.process import PROCESS as PROGRAMMING
from services.shop.process import PROCESS as SHOP
from services.vehicle_data.process import PROCESS as VEHICLE_DATA

PROCESSES = (IDENTITY, BILLING, VEHICLE_DATA, SHOP, AIR, PROGRAMMING, GATEWAY, AUDIT, PARTS, PARTNERS)
NAMES = tuple(p.name for p in PROCESSES)
SERVICES = tuple(p.name for p in PROCESSES if p.database)  # each with a database of its own
BY_NAME = {p.name: p for p in PROCESSES}
