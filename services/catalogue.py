"""Every fact AOS publishes, from each service's own contracts: the catalogue partner systems read (the AsyncAPI
document), the audit trail records whole, and the broker's grants check publishers against."""
from services.air.contracts import FACTS as AIR
from services.billing.contracts import FACTS as BILLING
from services.identity.contracts import FACTS as IDENTITY
from services.partners.contracts import FACTS as PARTNERS
from services.parts.contracts import FACTS as PARTS
from services.programming.contracts import FACTS as PROGRAMMING
from services.shop.contracts import FACTS as SHOP
from services.vehicle_data.contracts import FACTS as VEHICLE_DATA

CATALOGUE = {**IDENTITY, **BILLING, **AIR, **VEHICLE_DATA, **PROGRAMMING, **SHOP, **PARTS, **PARTNERS}
