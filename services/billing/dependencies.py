"""Billing's providers: the card provider adapter and the seller's own data, from configuration."""
from nameko.extensions import DependencyProvider

from services.billing.payments import PROVIDERS
from services.billing.use_cases import Seller
from services.shared.config import ConfigurationError, setting


class Payments(DependencyProvider):
    def setup(self):
        config = self.container.config
        name = setting(config, "CARD_PROVIDER")
        if name not in PROVIDERS:
            raise ConfigurationError(f"AOS_CARD_PROVIDER={name} is not one of: {', '.join(PROVIDERS)}")
        self.cards = PROVIDERS[name]()
        seller = setting(config, "SELLER")
        self.seller = Seller(seller["name"], seller["country"], seller["vat_id"], seller["address"])
        self.invoice_limit_cents = setting(config, "INVOICE_LIMIT_CENTS")

    def get_dependency(self, worker_ctx):
        return self
