"""What to buy for a use: billing's tariffs are the one source. A service that refuses for want of access says
which tariffs open it; it asks billing once a minute and keeps the answer, so a refusal never waits on billing."""
import logging
import time

from nameko.extensions import DependencyProvider

from services.billing.access import opens

log = logging.getLogger(__name__)


class Offer(DependencyProvider):
    """Billing's tariffs on sale, kept for `ttl` seconds. The service hands in how to ask (its RpcProxy)."""

    def __init__(self, ttl=60.0):
        self.ttl = ttl
        self.tariffs = []
        self.fetched_at = None

    def get_dependency(self, worker_ctx):
        return self

    def opening(self, scope, ask):
        """The tariffs (with their prices) that open `scope`; the last known ones while billing does not answer."""
        if self.fetched_at is None or time.monotonic() - self.fetched_at > self.ttl:
            try:
                self.tariffs, self.fetched_at = ask(), time.monotonic()
            except Exception:  # a refusal still goes out, with what was known
                log.warning("billing's tariffs could not be read; the offer uses what was known", exc_info=True)
        return [t for t in self.tariffs if opens(t["scopes"], scope)]

    def codes(self, scope, ask):
        return [t["code"] for t in self.opening(scope, ask)]
