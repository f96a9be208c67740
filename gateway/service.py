"""The gateway service: the public HTTP API, its routes one module per area (gateway/routes/), on what they all
stand on (gateway/calls.py); here, identity's revocations kept in memory, which every route's caller check reads."""
import logging
from datetime import datetime, timedelta, timezone

import eventlet
from nameko.events import BROADCAST
from nameko.timer import timer

from services.identity.contracts import FACTS as IDENTITY
from gateway.auth import REMEMBER_SECONDS
from gateway.calls import Calls
from gateway.routes import AREAS
from services.shared.consumer import consumes

log = logging.getLogger(__name__)


class GatewayService(*AREAS, Calls):
    name = "gateway"

    # ---- identity's revocations, kept in memory ----

    @consumes(IDENTITY["TokensRevoked"], handler_type=BROADCAST, reliable_delivery=False)  # every gateway replica hears it
    def on_tokens_revoked(self, event):
        self.auth.revocations.add(event.data)

    @timer(interval=1, eager=True)
    def read_revocations(self):
        """At start, until identity answers, then every half minute (healing a missed event): identity's
        revocations still in force."""
        if not self.auth.revocations.due():
            return
        since = datetime.now(timezone.utc) - timedelta(seconds=REMEMBER_SECONDS)
        try:
            with eventlet.Timeout(5):
                found = self.identity.revocations({"since": since.isoformat()})["revocations"]
        except BaseException as exc:  # identity not up yet: the next round asks again
            log.warning("identity's revocations could not be read: %s", type(exc).__name__)
            return
        self.auth.revocations.load(found)
