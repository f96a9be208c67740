"""Billing's settings, read once at start (services.shared.config)."""
from dataclasses import dataclass

from services.billing.payments import PROVIDERS
from services.shared.config import Rule, between, one_of, variable
from services.shared.countries import SUPPORTED


@dataclass(frozen=True)
class Seller:
    """The manufacturer on every invoice; its country decides domestic VAT and reverse charge."""
    name: str
    country: str
    vat_id: str
    address: str


@dataclass(frozen=True)
class BillingSettings:
    card_provider: str = variable("AOS_CARD_PROVIDER", str, "sandbox", rule=one_of(*PROVIDERS))
    seller_name: str = variable("AOS_SELLER_NAME", str, "AOS Demo Manufacturer GmbH")
    seller_country: str = variable("AOS_SELLER_COUNTRY", str.upper, "DE", rule=Rule(lambda v: v in SUPPORTED,
                                                                                     "a supported country code"))
    seller_vat_id: str = variable("AOS_SELLER_VAT_ID", str, "DE136695976")
    seller_address: str = variable("AOS_SELLER_ADDRESS", str, "Petuelring 1, 80809 München, Germany")
    # VIES confirms buyers' VAT ids (services/billing/vies.py); make run and the tests use deploy/vies.py
    vies_url: str = variable("AOS_VIES_URL", str, "https://ec.europa.eu/taxation_customs/vies/rest-api",
                             rule=Rule(lambda v: v.startswith(("http://", "https://")), "an http(s) URL"))
    vies_retry_seconds: float = variable("AOS_VIES_RETRY_SECONDS", float, 300.0, rule=between(0.2, 86400))

    @property
    def seller(self):
        return Seller(self.seller_name, self.seller_country, self.seller_vat_id, self.seller_address)
