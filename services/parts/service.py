"""The parts service: the manufacturer's parts catalogue for workshops (the car's groups, illustrations with
hotspots, parts by number and by name, quotes for the job card, parts requests to a dealer); it follows billing's
access facts (FollowsAccess)."""
from datetime import datetime, timezone

from services.billing.access import FollowsAccess
from services.billing.offer import Offer
from services.parts import schemas as s, use_cases
from services.parts.contracts import FACTS as PARTS
from services.parts.dependencies import Remembered, Shelf
from services.parts.models import OutboxMessage, ProcessedEvent
from services.shared.blobs import Blobs
from services.shared.caller import Proof, api
from services.shared.database import Database
from services.shared.errors import NotFound
from services.shared.logs import Correlation
from services.shared.metrics import Metrics
from services.shared.queues import RpcProxy
from services.shared.schemas import dump, load


class PartsService(FollowsAccess):
    name = "parts"
    key_scope = "parts"  # what an API key needs to read its data (services.shared.caller.Proof.reader)
    proof = Proof()  # the caller's token, checked (services.shared.caller)
    access = use_cases.ACCESS

    db = Database(OutboxMessage, ProcessedEvent, PARTS)
    shelf = Shelf()
    blobs = Blobs()
    remembered = Remembered()
    vehicle_data = RpcProxy("vehicle_data")
    identity = RpcProxy("identity")
    billing = RpcProxy("billing")
    offer = Offer()
    metrics = Metrics()
    correlation = Correlation()

    def _ctx(self):
        return use_cases.Context(self.db, self.shelf, datetime.now(timezone.utc), self._vehicle, self._country,
                                 self._offer, self.blobs)

    def _vehicle(self, vin):
        """The registry's build data of a car, or None for one it does not know."""
        def fetch():
            try:
                return self.vehicle_data.describe(vin)
            except NotFound:
                return None
        return self.remembered.get(("vehicle", vin), fetch)

    def _country(self, actor):
        """The workshop's country, where its prices and VAT are."""
        return self.remembered.get(("country", actor["operator_id"]),
                                   lambda: self.identity.me(actor)["operator"]["country"])

    def _offer(self):
        """Billing's tariffs that open the parts catalogue, with their prices."""
        return self.offer.opening("parts", lambda: self.billing.tariffs({})["tariffs"])

    @api
    def ping(self):
        return "pong"

    @api
    def catalogue(self, reader, query):
        return dump(s.Groups, use_cases.groups(self._ctx(), reader, load(s.CatalogueQuery, query)))

    @api
    def illustration(self, reader, illustration_id, query):
        return dump(s.IllustrationOut, use_cases.illustration(self._ctx(), reader, illustration_id,
                                                              load(s.IllustrationQuery, query)))

    @api
    def part(self, reader, number, query):
        return dump(s.PartOut, use_cases.part(self._ctx(), reader, number, load(s.PartQuery, query)))

    @api
    def search(self, reader, query):
        return dump(s.PartsFound, use_cases.find(self._ctx(), reader, load(s.SearchQuery, query)))

    @api
    def changes(self, reader, query):
        """A page of the catalogue's changes for a partner's mirror (an export, or a change feed)."""
        return dump(s.PartChanges, use_cases.changes(self._ctx(), reader, load(s.ChangesQuery, query)))

    @api
    def quote(self, actor, payload):
        """Parts at the workshop's prices (the job card's estimate asks)."""
        return dump(s.Quote, use_cases.quote(self._ctx(), actor, load(s.QuoteInput, payload)))

    @api
    def request_parts(self, actor, payload):
        return dump(s.PartsRequestOut, use_cases.request_parts(self._ctx(), actor,
                                                               load(s.PartsRequestInput, payload)))

    @api
    def requests(self, actor):
        return dump(s.PartsRequestList, use_cases.requests(self._ctx(), actor))

    @api
    def parts_request(self, actor, request_id):
        return dump(s.PartsRequestOut, use_cases.parts_request(self._ctx(), actor, request_id))
