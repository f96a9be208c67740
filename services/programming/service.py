"""The programming service: agents, sessions and their metered clock for workshops (through the gateway), the
agents' jobs, heartbeats, reports and security keys, the clock's timer, and billing's programming time."""
from datetime import datetime, timezone
from functools import partial

from services.billing.contracts import FACTS as BILLING
from services.identity.contracts import FACTS as IDENTITY
from services.programming.contracts import FACTS as PROGRAMMING
from services.shared.queues import RpcProxy
from nameko.timer import timer

from services.programming import AGENTS, descriptions, job_cards, schemas as s, use_cases
from services.programming.models import OutboxMessage, ProcessedEvent
from services.programming.dependencies import Keys
from services.programming.settings import ProgrammingSettings
from services.shared.blobs import Blobs
from services.shared.config import Settings
from services.shared.consumer import consumes, consumes_batch
from services.shared.database import Database
from services.shared.caller import Proof, api
from services.shared.logs import Correlation
from services.shared.metrics import Metrics
from services.billing.offer import Offer
from services.shared.schemas import dump, load
from services.shared.lease import one_replica


class ProgrammingService:
    name = "programming"
    proof = Proof()  # the caller's token, checked (services.shared.caller)
    key_scope = "diagnostics"  # an API key reads the diagnostic descriptions (services.programming.descriptions)

    db = Database(OutboxMessage, ProcessedEvent, PROGRAMMING)
    blobs = Blobs()
    settings = Settings(ProgrammingSettings)
    keys = Keys()
    vehicle_data = RpcProxy("vehicle_data")
    billing = RpcProxy("billing")
    identity = RpcProxy("identity")  # SERMI: is the technician authorised now; a job's workshop
    air = RpcProxy("air")  # a job's fault codes linked to their documents
    parts = RpcProxy("parts")  # a job's parts, priced
    offer = Offer()
    metrics = Metrics()
    correlation = Correlation()

    def _ctx(self):
        return use_cases.Context(self.db, datetime.now(timezone.utc), self.settings, self.blobs,
                                 self.vehicle_data.describe, self.billing.claim_vin_session, self._tariffs,
                                 self.keys, self.identity.sermi_check, me=self.identity.me, search=self.air.search,
                                 document=self.air.document, add_record=self._add_record, next_run=job_cards.next_run,
                                 quote=self.parts.quote, replace_ecu=self.vehicle_data.replace_ecu)

    def _add_record(self, actor, vin, payload):
        return self.vehicle_data.add_service_record(actor, vin, payload)

    def _tariffs(self, scope):
        return self.offer.codes(scope, lambda: self.billing.tariffs({})["tariffs"])

    @api
    def ping(self):
        return "pong"

    # ---- diagnostic descriptions, for partners' mirrors ----

    @api
    def description_changes(self, reader, query):
        return dump(s.DescriptionChanges, descriptions.changes(self._ctx(), reader,
                                                               load(s.DescriptionChangesQuery, query)))

    @api
    def description_file(self, reader, ecu_type):
        return dump(s.DescriptionFile, descriptions.file_link(self._ctx(), reader, ecu_type))

    # ---- workshops ----

    @api
    def register_agent(self, actor, payload):
        return dump(s.AgentOut, use_cases.register_agent(self._ctx(), actor, load(s.AgentInput, payload)))

    @api
    def agents(self, actor):
        return dump(s.AgentList, use_cases.agents(self._ctx(), actor))

    @api
    def rename_agent(self, actor, agent_id, payload):
        return dump(s.AgentSeen, use_cases.rename_agent(self._ctx(), actor, agent_id, load(s.AgentInput, payload)))

    @api
    def renew_agent_credential(self, actor, agent_id):
        return dump(s.AgentOut, use_cases.renew_credential(self._ctx(), actor, agent_id))

    @api
    def revoke_agent(self, actor, agent_id):
        return dump(s.AgentSeen, use_cases.revoke_agent(self._ctx(), actor, agent_id))

    @api
    def open_session(self, actor, payload):
        return dump(s.SessionOut, use_cases.open_session(self._ctx(), actor, load(s.OpenSession, payload)))

    @api
    def sessions(self, actor):
        return dump(s.SessionList, use_cases.sessions(self._ctx(), actor))

    @api
    def session(self, actor, session_id):
        return dump(s.SessionOut, use_cases.get_session(self._ctx(), actor, session_id))

    @api
    def start(self, actor, session_id):
        return dump(s.SessionOut, use_cases.start(self._ctx(), actor, session_id))

    @api
    def end(self, actor, session_id):
        return dump(s.SessionOut, use_cases.end(self._ctx(), actor, session_id))

    # ---- agents ----

    @api(lane=AGENTS)
    def next_job(self, credentials):
        return dump(s.Job, use_cases.next_job(self._ctx(), _pair(credentials)))

    @api(lane=AGENTS)
    def heartbeat(self, credentials, session_id, payload):
        return dump(s.SessionClock, use_cases.heartbeat(self._ctx(), _pair(credentials), session_id,
                                                      load(s.Heartbeat, payload)))

    @api(lane=AGENTS)
    def report(self, credentials, session_id, payload):
        return dump(s.SessionOut, use_cases.report(self._ctx(), _pair(credentials), session_id,
                                                   load(s.AgentReport, payload)))

    # ---- security-related work (SERMI) ----

    @api
    def open_security_job(self, actor, payload):
        return dump(s.SecurityJobOut, use_cases.open_security_job(self._ctx(), actor, load(s.SecurityJobInput, payload)))

    @api
    def security_jobs(self, actor):
        return dump(s.SecurityJobList, use_cases.security_jobs(self._ctx(), actor))

    @api
    def gateway_unlock(self, actor, job_id, payload):
        return dump(s.UnlockOut, use_cases.gateway_unlock(self._ctx(), actor, job_id, load(s.UnlockInput, payload)))

    @api
    def program_key(self, actor, job_id, payload):
        return dump(s.TaskOut, use_cases.program_key(self._ctx(), actor, job_id, load(s.KeyJobInput, payload)))

    @api
    def unlock_by_agent(self, actor, job_id, payload):
        return dump(s.TaskOut, use_cases.unlock_by_agent(self._ctx(), actor, job_id, load(s.AgentUnlockInput, payload)))

    @api
    def pair_unit(self, actor, job_id, payload):
        return dump(s.TaskOut, use_cases.pair_unit(self._ctx(), actor, job_id, load(s.PairingInput, payload)))

    @api
    def task(self, actor, task_id):
        return dump(s.TaskOut, use_cases.task(self._ctx(), actor, task_id))

    @api(lane=AGENTS)
    def task_security_key(self, credentials, task_id, payload):
        return dump(s.KeyOut, use_cases.task_security_key(self._ctx(), _pair(credentials), task_id,
                                                          load(s.SeedInput, payload)))

    @api(lane=AGENTS)
    def task_gateway_token(self, credentials, task_id, payload):
        return dump(s.TokenOut, use_cases.task_gateway_token(self._ctx(), _pair(credentials), task_id,
                                                             load(s.ChallengeInput, payload)))

    @api(lane=AGENTS)
    def task_pairing_token(self, credentials, task_id, payload):
        return dump(s.TokenOut, use_cases.task_pairing_token(self._ctx(), _pair(credentials), task_id,
                                                             load(s.ChallengeInput, payload)))

    @api(lane=AGENTS)
    def task_report(self, credentials, task_id, payload):
        return dump(s.TaskOut, use_cases.task_report(self._ctx(), _pair(credentials), task_id,
                                                     load(s.TaskReport, payload)))

    @api(lane=AGENTS)
    def security_key(self, credentials, session_id, payload):
        return dump(s.KeyOut, use_cases.security_key(self._ctx(), _pair(credentials), session_id,
                                                     load(s.SeedInput, payload)))

    # ---- the job card and diagnosis ----

    @api
    def open_job(self, actor, payload):
        return dump(s.JobOut, job_cards.open_job(self._ctx(), actor, load(s.OpenJob, payload)))

    @api
    def jobs(self, actor):
        return dump(s.JobList, job_cards.jobs(self._ctx(), actor))

    @api
    def job(self, actor, job_id):
        return dump(s.JobOut, job_cards.get_job(self._ctx(), actor, job_id))

    @api
    def start_run(self, actor, job_id, payload):
        return dump(s.RunOut, job_cards.start_run(self._ctx(), actor, job_id, load(s.RunInput, payload)))

    @api
    def run(self, actor, job_id, run_id):
        return dump(s.RunOut, job_cards.get_run(self._ctx(), actor, job_id, run_id))

    @api
    def choose_operations(self, actor, job_id, payload):
        return dump(s.JobOut, job_cards.choose_operations(self._ctx(), actor, job_id, load(s.OperationsInput, payload)))

    @api
    def put_part(self, actor, job_id, payload):
        return dump(s.JobOut, job_cards.put_part(self._ctx(), actor, job_id, load(s.JobPart, payload)))

    @api
    def set_parts(self, actor, job_id, payload):
        return dump(s.JobOut, job_cards.set_parts(self._ctx(), actor, job_id, load(s.JobParts, payload)))

    @api
    def close_job(self, actor, job_id):
        return dump(s.JobOut, job_cards.close_job(self._ctx(), actor, job_id))

    @api
    def job_report(self, actor, job_id):
        return dump(s.LinkOut, job_cards.report_link(self._ctx(), actor, job_id))

    @api(lane=AGENTS)
    def run_samples(self, credentials, run_id, payload):
        return dump(s.SamplesOut, job_cards.samples(self._ctx(), _pair(credentials), run_id, load(s.Samples, payload)))

    @api(lane=AGENTS)
    def run_report(self, credentials, run_id, payload):
        return dump(s.RunOut, job_cards.run_report(self._ctx(), _pair(credentials), run_id,
                                                   load(s.RunReport, payload)))

    # ---- clock and facts ----

    @timer(interval=0.25)
    @one_replica("clocks")
    def watch_clocks(self):
        ctx = self._ctx()
        use_cases.watch_clocks(ctx)
        job_cards.watch_runs(ctx)

    @consumes_batch(BILLING["AccessPurchased"])
    def on_access_purchased(self, batch):
        self.db.apply_each_once(batch, _purchased)

    @consumes(BILLING["CreditIssued"])
    def on_credit_issued(self, event):
        """An outage credit lengthens a VIN pass: it keeps paying for its car's diagnosis to its new end."""
        self.db.apply_once(event, job_cards.ACCESS.extended)

    @consumes(BILLING["AccessExpired"])
    def on_access_expired(self, event):
        self.db.apply_once(event, job_cards.ACCESS.expired)

    @consumes(IDENTITY["TokensRevoked"])
    def on_tokens_revoked(self, event):
        """A deactivated user's running work stops (their sessions and their jobs' diagnosis runs)."""
        if event.data["reason"] == "deactivated":
            self.db.apply_once(event, partial(_deactivated, self._ctx()))


def _purchased(uow, data):
    """Programming seconds, remote-diagnosis seconds, a VIN pass: what each side of this service keeps of it."""
    use_cases.record_purchase(uow, data)
    job_cards.record_purchase(uow, data)


def _deactivated(ctx, uow, data):
    use_cases.user_deactivated(ctx, uow, data["user_id"])
    job_cards.user_deactivated(ctx, uow, data["user_id"])


def _pair(credentials):
    return credentials.get("agent_id"), credentials.get("credential")


