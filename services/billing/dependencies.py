"""Billing's providers: the card provider adapter and the seller's own data, from configuration."""
from nameko.extensions import DependencyProvider

from services.billing.payments import PROVIDERS
from services.billing.settings import BillingSettings
from services.billing.vies import ViesRest
from services.shared.config import of_container


class Payments(DependencyProvider):
    def setup(self):
        settings = of_container(self.container, BillingSettings)
        self.cards = PROVIDERS[settings.card_provider]()
        self.seller = settings.seller
        self.vat = ViesRest(settings.vies_url, settings.seller_vat_id)
        self.vies_retry_seconds = settings.vies_retry_seconds

    def get_dependency(self, worker_ctx):
        return self
