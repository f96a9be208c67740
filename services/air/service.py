"""The air service: technical information for workshops (search, suggestions, documents, navigation); it follows
billing's access facts (FollowsAccess)."""
from datetime import datetime, timezone

from services.air.contracts import FACTS as AIR
from services.shared.queues import RpcProxy

from services.air import domain, schemas as s, use_cases
from services.air.dependencies import Library, VehicleCache
from services.air.models import OutboxMessage, ProcessedEvent
from services.billing.access import FollowsAccess
from services.shared.blobs import Blobs
from services.shared.database import Database
from services.shared.caller import Proof, api
from services.shared.logs import Correlation
from services.shared.metrics import Metrics
from services.billing.offer import Offer
from services.shared.schemas import dump, load



class AirService(FollowsAccess):
    name = "air"
    key_scope = "air"  # what an API key needs to read its data (services.shared.caller.Proof.reader)
    proof = Proof()  # the caller's token, checked (services.shared.caller)
    access = use_cases.ACCESS

    db = Database(OutboxMessage, ProcessedEvent, AIR)
    index = Library()
    blobs = Blobs()
    vehicles = VehicleCache()
    vehicle_data = RpcProxy("vehicle_data")
    billing = RpcProxy("billing")
    offer = Offer()
    metrics = Metrics()
    correlation = Correlation()

    def _ctx(self):
        return use_cases.Context(self.db, self.index, datetime.now(timezone.utc), self._vehicle, self._offer,
                                 self.blobs)

    def _vehicle(self, vin):
        return self.vehicles.get(vin, lambda v: domain.Vehicle.from_described(self.vehicle_data.describe(v)))

    def _offer(self):
        """Billing's tariffs that open technical information, with their prices."""
        return self.offer.opening("air", lambda: self.billing.tariffs({})["tariffs"])

    @api
    def ping(self):
        return "pong"

    @api
    def search(self, reader, query):
        return dump(s.SearchOut, use_cases.run_search(self._ctx(), reader, load(s.SearchQuery, query)))

    @api
    def suggest(self, reader, query):
        return dump(s.SuggestOut, use_cases.suggest(self._ctx(), reader, load(s.SuggestQuery, query)))

    @api
    def document(self, reader, document_id, query):
        return dump(s.DocumentOut, use_cases.open_document(self._ctx(), reader, document_id,
                                                           load(s.DocumentQuery, query)))

    @api
    def changes(self, reader, query):
        """A page of the library's changes for a partner's mirror (an export, or a change feed)."""
        return dump(s.ChangesOut, use_cases.changes(self._ctx(), reader, load(s.ChangesQuery, query)))

    @api
    def navigation(self, reader, query):
        return dump(s.NavigationOut, use_cases.navigation(self._ctx(), reader, load(s.NavigationQuery, query)))
