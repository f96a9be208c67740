"""Vehicle data's settings, read once at start (services.shared.config)."""
from dataclasses import dataclass

from services.shared.config import between, variable


@dataclass(frozen=True)
class VehicleDataSettings:
    # how long the workshop that wrote a service record may correct it; then it is permanent in the car's history
    correction_days: int = variable("AOS_RECORD_CORRECTION_DAYS", int, 14, rule=between(0, 365))
