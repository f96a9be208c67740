"""The vehicle data service: RPC entrypoints for workshops (through the gateway) and for other services, and the
consumers of identity's operators; it follows billing's access facts (FollowsAccess)."""
from datetime import datetime, timezone

from services.identity.contracts import FACTS as IDENTITY
from services.vehicle_data.contracts import FACTS as VEHICLE_DATA
from services.shared.queues import RpcProxy

from services.billing.access import FollowsAccess
from services.shared.consumer import consumes
from services.shared.database import Database
from services.shared.caller import Proof, api
from services.shared.config import Settings
from services.shared.logs import Correlation
from services.shared.metrics import Metrics
from services.billing.offer import Offer
from services.shared.schemas import dump, load
from services.vehicle_data import schemas as s
from services.vehicle_data import use_cases
from services.vehicle_data.models import OutboxMessage, ProcessedEvent
from services.vehicle_data.settings import VehicleDataSettings



class VehicleDataService(FollowsAccess):
    name = "vehicle_data"
    key_scope = "vehicles"  # what an API key needs to read its data (services.shared.caller.Proof.reader)
    proof = Proof()  # the caller's token, checked (services.shared.caller)
    access = use_cases.ACCESS

    db = Database(OutboxMessage, ProcessedEvent, VEHICLE_DATA)
    billing = RpcProxy("billing")
    offer = Offer()
    settings = Settings(VehicleDataSettings)
    metrics = Metrics()
    correlation = Correlation()

    def _ctx(self):
        return use_cases.Context(self.db, datetime.now(timezone.utc), self._tariffs, self.settings)

    def _tariffs(self):
        return self.offer.codes("vehicle_data", lambda: self.billing.tariffs({})["tariffs"])

    @api
    def ping(self):
        return "pong"

    # ---- workshops ----

    @api
    def vehicle(self, reader, vin):
        return dump(s.VehicleOut, use_cases.vehicle(self._ctx(), reader, vin))

    @api
    def service_records(self, reader, vin):
        return dump(s.ServiceHistory, use_cases.history(self._ctx(), reader, vin))

    @api
    def replace_ecu(self, vin, payload):
        """For programming: the unit a workshop fitted, as it identified itself (the registry follows)."""
        return dump(s.ReplacedEcuOut, use_cases.replace_ecu(self._ctx(), vin, load(s.ReplacedEcuInput, payload)))

    @api
    def retrofit(self, actor, vin, payload):
        return dump(s.RetrofittedOut, use_cases.retrofit(self._ctx(), actor, vin, load(s.RetrofitInput, payload)))

    @api
    def add_service_record(self, actor, vin, payload):
        record = use_cases.add_record(self._ctx(), actor, vin, load(s.ServiceRecordInput, payload))
        return dump(s.ServiceRecordOut, record)

    @api
    def maintenance(self, reader, vin, query):
        reading = load(s.MaintenanceQuery, query)["odometer_km"]
        return dump(s.MaintenanceOut, use_cases.maintenance(self._ctx(), reader, vin, reading))

    @api
    def maintenance_changes(self, reader, query):
        """The maintenance schedules for a partner's mirror (an export, or a change feed)."""
        return dump(s.ScheduleChanges, use_cases.maintenance_changes(self._ctx(), reader,
                                                                     load(s.RegistryQuery, query)))

    @api
    def registry_changes(self, reader, query):
        """A page of the registry for a partner's mirror (an export, or a change feed)."""
        return dump(s.RegistryChanges, use_cases.registry_changes(self._ctx(), reader, load(s.RegistryQuery, query)))

    @api
    def campaigns(self, reader, vin):
        return dump(s.CampaignList, use_cases.campaigns(self._ctx(), reader, vin))

    # ---- other services ----

    @api
    def describe(self, vin):
        described = use_cases.describe(self._ctx(), vin)
        return dump(s.VehicleOrderOut, described) | {"vin": described["vin"], "model_year": described["model_year"],
                                               "ecus": [dump(s.EcuOut, e) for e in described["ecus"]]}

    # ---- facts ----

    @consumes(IDENTITY["OperatorRegistered"])
    def on_operator_registered(self, event):
        self.db.apply_once(event, use_cases.record_workshop)

