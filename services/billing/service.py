"""The billing service: RPC entrypoints for workshops (through the gateway) and platform staff, the timer that
closes access windows, and the consumers of identity's and programming's facts."""
import base64
from datetime import datetime, timezone

from nameko.timer import timer

from services.billing.contracts import FACTS as BILLING
from services.identity.contracts import FACTS as IDENTITY
from services.programming.contracts import FACTS as PROGRAMMING
from services.shop.contracts import FACTS as SHOP
from services.billing import invoices
from services.billing import schemas as s
from services.billing import use_cases
from services.billing.dependencies import Payments
from services.billing.models import OutboxMessage, ProcessedEvent
from services.shared.blobs import Blobs
from services.shared.consumer import consumes
from services.shared.database import Database
from services.shared.caller import Proof, api
from services.shared.logs import Correlation
from services.shared.mail import Mailer
from services.shared.metrics import Metrics
from services.shared.schemas import dump, load
from services.shared.lease import one_replica



class BillingService:
    name = "billing"
    proof = Proof()  # the caller's token, checked (services.shared.caller)

    db = Database(OutboxMessage, ProcessedEvent, BILLING)
    payments = Payments()
    blobs = Blobs()
    mailer = Mailer()
    metrics = Metrics()
    correlation = Correlation()

    def _ctx(self):
        return use_cases.Context(self.db, self.payments.cards, self.payments.seller, datetime.now(timezone.utc),
                                 self.blobs, self.mailer, self.mailer.settings.portal_url)

    @api
    def ping(self):
        return "pong"

    # ---- workshops ----

    @api
    def tariffs(self, query):
        return dump(s.TariffList, use_cases.tariffs(self._ctx(), load(s.TariffQuery, query)["country"]))

    @api
    def top_up(self, actor, payload, idempotency_key):
        key = load(s.IdempotencyKey, {"key": idempotency_key})["key"]
        return dump(s.Credit, use_cases.top_up(self._ctx(), actor, load(s.TopUpInput, payload), key))

    @api
    def credit(self, actor):
        return dump(s.Credit, use_cases.credit(self._ctx(), actor))

    @api
    def purchase(self, actor, payload, idempotency_key):
        key = load(s.IdempotencyKey, {"key": idempotency_key})["key"]
        return dump(s.PurchaseOut, use_cases.purchase(self._ctx(), actor, load(s.PurchaseInput, payload), key))

    @api
    def purchases(self, actor):
        return dump(s.PurchaseList, use_cases.purchases(self._ctx(), actor))

    @api
    def entitlements(self, actor):
        return dump(s.Entitlements, use_cases.entitlements(self._ctx(), actor))

    @api
    def invoices(self, actor):
        return dump(s.InvoiceList, use_cases.list_invoices(self._ctx(), actor))

    @api
    def invoice(self, actor, invoice_id):
        return dump(s.InvoiceOut, invoices.view(use_cases.invoice(self._ctx(), actor, invoice_id)))

    @api
    def invoice_pdf(self, actor, invoice_id):
        """The PDF as base64 (RPC carries JSON), with its file name."""
        found, document = use_cases.invoice_pdf(self._ctx(), actor, invoice_id)
        return {"filename": f"{found.number}.pdf", "pdf_base64": base64.b64encode(document).decode()}

    # ---- programming ----

    @api
    def claim_vin_session(self, claim):
        return dump(s.VinSessionOut, use_cases.claim_vin_session(self._ctx(), load(s.VinSessionClaim, claim)))

    # ---- platform staff ----

    @api
    def save_tariff(self, staff, payload):
        return dump(s.TariffOut, use_cases.save_tariff(self._ctx(), load(s.TariffInput, payload)))

    @api
    def set_invoice_limit(self, staff, payload):
        return dump(s.InvoiceLimitOut, use_cases.set_invoice_limit(self._ctx(), load(s.InvoiceLimitInput, payload),
                                                                   set_by=staff["staff"]))

    @api
    def settle_invoice(self, staff, payload):
        settled = load(s.SettlementInput, payload)
        return use_cases.settle_invoice(self._ctx(), settled["number"], settled["bank_reference"])

    @api
    def credit_outage(self, staff, payload):
        outage = load(s.OutageInput, payload)
        return use_cases.credit_outage(self._ctx(), outage["started_at"], outage["ended_at"])

    @api
    def check_books(self, staff):
        return use_cases.check_books(self._ctx())

    # ---- clock and facts ----

    @timer(interval=1.0)
    @one_replica("expire-windows")
    def close_expired_windows(self):
        use_cases.expire_windows(self._ctx())

    @timer(interval=5.0)
    @one_replica("access-reminders")
    def remind_of_ending_access(self):
        use_cases.remind_of_ending_access(self._ctx())

    @timer(interval=1.0)
    @one_replica("vies-checks")
    def confirm_vat_ids(self):
        use_cases.check_vat_ids(self._ctx(), self.payments.vat, self.payments.vies_retry_seconds)

    @timer(interval=10.0, eager=True)
    def measure(self):
        use_cases.measure_entitlements(self._ctx())

    @consumes(IDENTITY["OperatorRegistered"])
    def on_operator_registered(self, event):
        self.db.apply_once(event, use_cases.record_buyer)

    # a failed charge (two charges racing on one credit balance) comes again instead of being dropped
    @consumes(SHOP["OrderPlaced"], requeue_on_error=True)
    def on_order_placed(self, event):
        self.db.apply_once(event, lambda uow, data: use_cases.charge_order(
            uow, data, self.payments.seller, datetime.now(timezone.utc), self.mailer, self.mailer.settings.portal_url))

    @consumes(SHOP["OrderCancelled"], requeue_on_error=True)
    def on_order_cancelled(self, event):
        self.db.apply_once(event, lambda uow, data: use_cases.refund_order(
            uow, data, self.payments.seller, datetime.now(timezone.utc)))

    @consumes(PROGRAMMING["SessionEnded"])
    def on_session_ended(self, event):
        self._meter(event)

    @consumes(PROGRAMMING["SessionExpired"])
    def on_session_expired(self, event):
        self._meter(event)

    @consumes(PROGRAMMING["DiagnosisRunEnded"])
    def on_diagnosis_run_ended(self, event):
        with self.db.first_delivery(event) as uow:
            if uow is not None:
                use_cases.meter_diagnosis(uow, event, datetime.now(timezone.utc))

    def _meter(self, event):
        with self.db.first_delivery(event) as uow:
            if uow is not None:
                use_cases.meter_session(uow, event, datetime.now(timezone.utc))
