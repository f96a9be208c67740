"""The partners service: a workshop's API keys for its tools and partner systems (issued, listed with their use,
revoked), and the check of every request made with one (the gateway asks; nothing is cached past a request, so a
revoked key reads nothing more)."""
from datetime import datetime, timezone

from services.partners import domain, schemas as s, use_cases
from services.partners.contracts import FACTS as PARTNERS
from services.partners.dependencies import KeyProofs
from services.partners.models import OutboxMessage, ProcessedEvent
from services.partners.settings import PartnersSettings
from services.shared.caller import Proof, api
from services.shared.config import Settings
from services.shared.database import Database
from services.shared.logs import Correlation
from services.shared.metrics import Metrics
from services.shared.schemas import dump, load


class PartnersService:
    name = "partners"
    proof = Proof()  # the caller's token, checked (services.shared.caller)

    db = Database(OutboxMessage, ProcessedEvent, PARTNERS)
    settings = Settings(PartnersSettings)
    proofs = KeyProofs()
    metrics = Metrics()
    correlation = Correlation()

    def _ctx(self):
        return use_cases.Context(self.db, datetime.now(timezone.utc),
                                 domain.Rate(self.settings.key_requests_per_minute), self.proofs.sign)

    @api
    def ping(self):
        return "pong"

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
