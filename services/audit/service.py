"""The audit service: every fact the services publish, recorded once in its workshop's hash chain; checkpoints
signed on a timer; the trail for the workshop (through the gateway) and for platform staff; verification."""
from datetime import datetime, timezone

from nameko.timer import timer

from services.audit import schemas as s
from services.audit import use_cases
from services.audit.dependencies import Keys
from services.audit.models import OutboxMessage, ProcessedEvent
from services.audit.settings import AuditSettings
from services.catalogue import CATALOGUE
from services.shared.caller import Proof, api
from services.shared.config import Settings
from services.shared.consumer import consumes_batch
from services.shared.database import Database
from services.shared.logs import Correlation
from services.shared.metrics import Metrics
from services.shared.schemas import dump, load
from services.shared.lease import one_replica


class AuditService:
    name = "audit"
    proof = Proof()  # the caller's token, checked (services.shared.caller)

    db = Database(OutboxMessage, ProcessedEvent)
    keys = Keys()
    settings = Settings(AuditSettings)
    metrics = Metrics()
    correlation = Correlation()

    def _ctx(self):
        return use_cases.Context(self.db, self.keys, datetime.now(timezone.utc))

    @api
    def ping(self):
        return "pong"

    @api
    def trail(self, actor, query):
        return dump(s.Trail, use_cases.workshop_trail(self._ctx(), actor, load(s.TrailQuery, query)))

    @api
    def export_trail(self, actor, query):
        """The trail for a download: the same entries, and the export recorded in the trail."""
        return dump(s.Trail, use_cases.workshop_trail(self._ctx(), actor, load(s.TrailQuery, query), export=True))

    # ---- platform staff ----

    @api
    def staff_trail(self, staff, query):
        filters = load(s.StaffTrailQuery, query)
        return dump(s.Trail, use_cases.trail(self._ctx(), filters, chain=filters.pop("operator_id")))

    @api
    def verify(self, staff):
        return dump(s.Verification, use_cases.verify(self._ctx()))

    # ---- the clock ----

    @timer(interval=1.0)
    @one_replica("audit-checkpoints")
    def sign_checkpoints(self):
        """A chain that grew is signed within AOS_AUDIT_CHECKPOINT_SECONDS of its last checkpoint."""
        use_cases.checkpoint(self._ctx(), self.settings.checkpoint_seconds)

    @timer(interval=3600)
    @one_replica("audit-prune")
    def prune(self):
        use_cases.prune(self._ctx(), self.settings.retention_days)


# how long the first of a batch waits for others: every fact of every service comes here, and a worker and a commit
# for each one were most of what a vehicle read cost the trail; the trail is read after the fact, not on its path
BATCH_WINDOW = 0.05


def _recorder(registration):
    """A consumer that records one type of fact, those that arrive within BATCH_WINDOW in one transaction;
    redelivered when recording fails, so nothing is lost."""
    def record(self, batch):
        use_cases.record(self._ctx(), batch)
    record.__name__ = record.__qualname__ = f"on_{registration.name}"
    return consumes_batch(registration, requeue_on_error=True, window=BATCH_WINDOW)(record)


for _registration in CATALOGUE.values():  # every fact, so the trail is whole (a new event type is recorded too)
    setattr(AuditService, f"on_{_registration.name}", _recorder(_registration))
