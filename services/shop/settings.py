"""The shop's settings, read once at start (services.shared.config)."""
from dataclasses import dataclass

from services.shared.config import Rule, between, variable
from services.shared.countries import SUPPORTED


@dataclass(frozen=True)
class ShopSettings:
    payment_timeout: float = variable("AOS_SHOP_PAYMENT_TIMEOUT_SECONDS", float, 120.0, rule=between(1, 86400))
    seller_country: str = variable("AOS_SELLER_COUNTRY", str.upper, "DE", rule=Rule(lambda v: v in SUPPORTED,
                                                                                     "a supported country code"))
