"""The partners service: a workshop's API keys for its tools and partner systems (issued, listed with their use,
revoked), the check of every request made with one (the gateway asks; nothing is cached past a request, so a
revoked key reads nothing more), and webhooks: endpoints that take the workshop's facts, each delivery signed, tried
again for three days, logged with every attempt."""
import json
from datetime import datetime, timezone

from nameko.timer import timer

from services.catalogue import CATALOGUE
from services.partners import domain, schemas as s, use_cases
from services.partners.contracts import FACTS as PARTNERS
from services.partners.dependencies import KeyProofs, Listening, Sender, addresses
from services.partners.models import OutboxMessage, ProcessedEvent
from services.partners.settings import PartnersSettings
from services.shared import events
from services.shared.caller import Proof, api
from services.shared.config import Settings
from services.shared.consumer import consumes_batch
from services.shared.database import Database
from services.shared.errors import invalid_field
from services.shared.logs import Correlation
from services.shared.mail import Mailer
from services.shared.metrics import Metrics
from services.shared.queues import RpcProxy
from services.shared.schemas import dump, load

SUBSCRIBABLE = domain.subscribable(CATALOGUE)
LEASE_SECONDS = 120  # a delivery being sent is not picked again before its try has had time to end
ROUND = 100  # deliveries taken per round


class PartnersService:
    name = "partners"
    proof = Proof()  # the caller's token, checked (services.shared.caller)
    key_scope = "events"  # a partner system's key reads its endpoints and deliveries, and redelivers

    db = Database(OutboxMessage, ProcessedEvent, PARTNERS)
    settings = Settings(PartnersSettings)
    proofs = KeyProofs()
    sender = Sender()
    listening = Listening()
    mailer = Mailer()
    identity = RpcProxy("identity")
    metrics = Metrics()
    correlation = Correlation()

    def _ctx(self):
        return use_cases.Context(self.db, datetime.now(timezone.utc),
                                 domain.Rate(self.settings.key_requests_per_minute), self.proofs.sign,
                                 resolve=addresses, development=self.settings.profile == "development",
                                 me=self.identity.me, mailer=self.mailer,
                                 first_wait=self.settings.webhook_first_retry_seconds)

    @api
    def ping(self):
        return "pong"

    # ---- API keys ----

    @api
    def issue_key(self, actor, payload):
        return dump(s.NewApiKey, use_cases.issue_key(self._ctx(), actor, load(s.ApiKeyInput, payload)))

    @api
    def keys(self, actor):
        return dump(s.ApiKeysOut, use_cases.keys(self._ctx(), actor))

    @api
    def revoke_key(self, actor, key_id):
        return dump(s.ApiKeyOut, use_cases.revoke_key(self._ctx(), actor, key_id))

    @api
    def admit(self, payload):
        """The gateway's check of a request made with an API key (the key is the proof: no actor)."""
        return dump(s.KeyAdmitted, use_cases.admit(self._ctx(), load(s.KeyCheck, payload)))

    # ---- webhooks ----

    @api
    def create_endpoint(self, actor, payload):
        asked = load(s.EndpointInput, payload)
        _known(asked["event_types"])
        made = use_cases.create_endpoint(self._ctx(), actor, asked)
        self.listening.forget()
        return dump(s.EndpointWithSecret, made)

    @api
    def endpoints(self, reader):
        return dump(s.EndpointsOut, use_cases.endpoints(self._ctx(), reader, SUBSCRIBABLE))

    @api
    def change_endpoint(self, actor, endpoint_id, payload):
        asked = load(s.EndpointChange, payload)
        _known(asked.get("event_types", []))
        changed = use_cases.change_endpoint(self._ctx(), actor, endpoint_id, asked)
        self.listening.forget()
        return dump(s.EndpointOut, changed)

    @api
    def rotate_secret(self, actor, endpoint_id):
        return dump(s.EndpointWithSecret, use_cases.rotate_secret(self._ctx(), actor, endpoint_id))

    @api
    def delete_endpoint(self, actor, endpoint_id):
        deleted = use_cases.delete_endpoint(self._ctx(), actor, endpoint_id)
        self.listening.forget()
        return dump(s.EndpointDeleted, deleted)

    @api
    def deliveries(self, reader, endpoint_id, query):
        return dump(s.DeliveriesOut, use_cases.deliveries(self._ctx(), reader, endpoint_id,
                                                          load(s.DeliveriesQuery, query)))

    @api
    def redeliver(self, reader, endpoint_id, delivery_id):
        answer = use_cases.redeliver(self._ctx(), reader, endpoint_id, delivery_id)
        self._send_due()
        return dump(s.Redelivery, answer)

    @timer(interval=1.0)
    def deliver_due(self):
        """Retries that came due (and anything a crash left): each round sends what is due, in the sender's pool."""
        self._send_due()

    def _send_due(self):
        for delivery_id, url, body, signing in use_cases.due(self._ctx(), ROUND, LEASE_SECONDS):
            self.sender.pool.spawn_n(self._try, delivery_id, url, body, signing)

    def _try(self, delivery_id, url, body, signing):
        status, error, took = self.sender.post(delivery_id, url, body, signing)
        use_cases.attempted(self._ctx(), delivery_id, status, error, took)


def _known(event_types):
    unknown = sorted(set(event_types) - set(SUBSCRIBABLE))
    if unknown:
        raise invalid_field("EVENT_TYPE_UNKNOWN", "event_types", "subscribable",
                            f"No webhook takes {', '.join(unknown)}: GET /api/v1/webhooks lists the event types, "
                            "each described in the AsyncAPI document.", unknown=unknown)


def _fan_out(registration):
    """A consumer of one fact, those that arrive together in one worker (most are for workshops no endpoint listens
    to): a delivery for each endpoint that takes it, sent at once."""
    def handle(self, batch):
        ctx = self._ctx()
        made = 0
        for event in batch:
            if self.listening.wants(lambda: use_cases.listening(ctx), event.type, event.data.get("operator_id")):
                made += use_cases.fan_out(ctx, event, json.dumps(events.as_sent(registration, event),
                                                                 separators=(",", ":")))
        if made:
            self._send_due()
    handle.__name__ = handle.__qualname__ = f"on_{registration.name}"
    return consumes_batch(registration, requeue_on_error=True)(handle)


for _name in SUBSCRIBABLE:
    setattr(PartnersService, f"on_{_name}", _fan_out(CATALOGUE[_name]))
