"""What billing does, step by step: each function takes its collaborators explicitly (store, card provider,
seller, time) and applies domain.py's rules inside one unit of work."""
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from services.billing import domain, invoices, ledger, mails, vies
from services.billing.settings import Seller  # noqa: F401  (what Context carries)
from services.billing.models import (Buyer, Credit, Entitlement, Invoice, Journal, Outage, Purchase,
                                     ShopPayment, Tariff, TopUp, VinPassSession)
from services.billing.payments import CardDeclined
from services.billing import metrics
from services.shared import spending
from services.shared.database import new_id
from services.shared.idempotency import check_same_request, once, request_fingerprint

log = logging.getLogger(__name__)


@dataclass
class Context:
    store: object
    cards: object
    seller: Seller
    now: datetime
    blobs: object = None
    mailer: object = None  # services.shared.mail.SmtpMailer
    portal_url: str = "http://127.0.0.1:8000"


# ---- tariffs ------------------------------------------------------------------------------------------------

def tariffs(ctx, country):
    """Every active tariff with its price excl. and incl. VAT for a buyer in `country` (no VAT id)."""
    with ctx.store.read() as s:
        rows = s.scalars(select(Tariff).where(Tariff.active.is_(True)).order_by(Tariff.net_cents)).all()
        return {"country": country, "tariffs": [_tariff_view(t, domain.price(t.net_cents, ctx.seller.country, country, None))
                                                for t in rows]}


def _tariff_view(t, p):
    return {"code": t.code, "name": t.name, "kind": t.kind, "scopes": t.scopes, "period": t.period,
            "seconds": t.seconds, "net_cents": p.net_cents, "vat_cents": p.vat_cents, "vat_rate": str(p.vat_rate),
            "gross_cents": p.gross_cents, "currency": "EUR"}


def save_tariff(ctx, payload):
    """Platform staff: create a tariff, or change an existing one's name, price or availability."""
    with ctx.store.transaction() as uow:
        tariff = uow.session.get(Tariff, payload["code"])
        if tariff is None:
            domain.require_new_tariff_whole(payload)
            tariff = Tariff(code=payload["code"], active=True)
            uow.session.add(tariff)
        for field in ("name", "kind", "scopes", "period", "seconds", "net_cents", "active"):
            if field in payload:
                setattr(tariff, field, payload[field])
        uow.session.flush()
        return _tariff_view(tariff, domain.price(tariff.net_cents, ctx.seller.country, ctx.seller.country, None))


# ---- buyers (read model of identity's operators) ---------------------------------------------------------------

def record_buyer(uow, data):
    if uow.session.get(Buyer, data["operator_id"]) is None:
        uow.session.add(Buyer(operator_id=data["operator_id"], legal_name=data["legal_name"],
                              legal_form=data.get("legal_form"), kind=data.get("kind", "workshop"),
                              country=data["country"], vat_id=data.get("vat_id"),
                              address=data.get("address"), owner_email=data.get("contact_email")))


def check_vat_ids(ctx, vat, retry_seconds, batch=20):
    """Ask VIES about the VAT ids not yet confirmed: those never asked, and those VIES could not answer for
    `retry_seconds` or longer. VIES is asked outside any transaction; an invalid id is not asked again."""
    since = ctx.now - timedelta(seconds=retry_seconds)
    with ctx.store.read() as s:
        due = s.scalars(select(Buyer).where(
            Buyer.vat_id.is_not(None), or_(Buyer.vat_status.is_(None), (Buyer.vat_status == vies.UNAVAILABLE)
                                           & (Buyer.vat_checked_at <= since))).limit(batch)).all()
        asked = [(b.operator_id, b.vat_id) for b in due]
    for operator_id, vat_id in asked:
        answer = vat.check(vat_id)
        with ctx.store.transaction() as uow:
            buyer = uow.session.get(Buyer, operator_id)
            buyer.vat_status, buyer.vat_checked_at = answer.status, ctx.now
            if answer.status == vies.VALID:
                buyer.vat_consultation, buyer.vat_confirmed_at = answer.consultation, ctx.now
    return len(asked)


def _buyer(session, operator_id):
    buyer = session.get(Buyer, operator_id)
    domain.require_known_buyer(buyer)
    return buyer


# ---- credit account -------------------------------------------------------------------------------------------

def top_up(ctx, actor, payload, idempotency_key):
    """Card → credit account. The card is charged with the top-up's own id as idempotency key, so a retry after a
    crash between the charge and the booking charges once and books once."""
    domain.require_money_role(actor)
    fingerprint = request_fingerprint(payload)
    operator_id = actor["operator_id"]

    def create(uow):
        row = TopUp(id=new_id(), operator_id=operator_id, idempotency_key=idempotency_key, fingerprint=fingerprint,
                    amount_cents=payload["amount_cents"], status="pending", created_at=ctx.now)
        uow.session.add(row)
        uow.session.flush()
        return row

    def replay(s, row):
        check_same_request(row, fingerprint)
        return row

    existing, _ = once(ctx.store, lambda s: s.scalar(select(TopUp).where(
        TopUp.operator_id == operator_id, TopUp.idempotency_key == idempotency_key)), create, replay)
    if existing.status == "declined":
        raise domain.card_declined(existing.decline_reason, existing.id)
    if existing.status == "pending":
        try:
            charge = ctx.cards.charge(existing.amount_cents, payload["card_token"], f"top-up:{existing.id}",
                                      "AOS credit top-up")
        except CardDeclined as declined:
            with ctx.store.transaction() as uow:
                uow.session.execute(update(TopUp).where(TopUp.id == existing.id, TopUp.status == "pending")
                                    .values(status="declined", decline_reason=declined.reason))
            raise domain.card_declined(declined.reason, existing.id)
        with ctx.store.transaction() as uow:
            done = uow.session.execute(update(TopUp).where(TopUp.id == existing.id, TopUp.status == "pending")
                                       .values(status="completed", payment_reference=charge.reference)).rowcount
            if done:
                ledger.book(uow.session, "top_up", existing.id, operator_id, "Credit top-up by card",
                            domain.postings_for_top_up(operator_id, existing.amount_cents), ctx.now)
    return credit(ctx, actor) | {"top_up_id": existing.id, "amount_cents": existing.amount_cents}


def credit(ctx, actor):
    with ctx.store.read() as s:
        account = domain.credit_account(actor["operator_id"])
        given_back = s.scalars(select(Credit).where(Credit.operator_id == actor["operator_id"])
                               .order_by(Credit.issued_at.desc()).limit(100)).all()
        return {"balance_cents": ledger.balance(s, account), "currency": "EUR",
                "statement": ledger.statement(s, account),
                "credits": [{"issued_at": c.issued_at, "reason": c.reason, "seconds": c.seconds,
                             "amount_cents": c.amount_cents, "session_id": c.session_id} for c in given_back]}


# ---- purchases --------------------------------------------------------------------------------------------------

def purchase(ctx, actor, payload, idempotency_key):
    """Paid from the credit account, in one transaction with the entitlement, the ledger and AccessPurchased:
    all of it happens, or none. The same key and body answer with the first result."""
    view, new = _purchase(ctx, actor, payload, idempotency_key)
    if new:  # counted once the transaction committed, never for a replay
        metrics.PURCHASES.labels(view["tariff_code"]).inc()
        metrics.REVENUE.labels(view["tariff_code"]).inc(view["net_cents"])
    return view


def _purchase(ctx, actor, payload, idempotency_key):
    fingerprint = request_fingerprint(payload)
    operator_id = actor["operator_id"]

    def find(s):
        return s.scalar(select(Purchase).where(Purchase.operator_id == operator_id,
                                               Purchase.idempotency_key == idempotency_key))

    def replay(s, existing):
        check_same_request(existing, fingerprint)
        return _purchase_view(existing, s.get(Entitlement, existing.entitlement_id))

    def create(uow):
        s = uow.session
        tariff = s.get(Tariff, payload["tariff_code"])
        domain.require_on_sale(tariff, payload["tariff_code"])
        vin, quantity = payload.get("vin"), payload.get("quantity", 1)
        domain.check_order(tariff, vin, quantity)
        buyer = _buyer(s, operator_id)
        domain.require_sold_to(tariff, buyer)
        price = domain.quote(tariff.net_cents * quantity, ctx.seller, buyer)
        spending.require_buyer(actor, price.gross_cents, _spent(s, actor["user_id"], ctx.now))
        bought = Purchase(
            id=new_id(), operator_id=operator_id, user_id=actor["user_id"], idempotency_key=idempotency_key,
            fingerprint=fingerprint, tariff_code=tariff.code, tariff_name=tariff.name, vin=vin,
            quantity=quantity, net_cents=price.net_cents, vat_cents=price.vat_cents,
            vat_rate=str(price.vat_rate), vat_treatment=price.treatment, gross_cents=price.gross_cents,
            paid_with="credit", entitlement_id=new_id(), created_at=ctx.now)
        entitlement = _entitlement(bought, tariff, quantity, ctx.now)
        s.add_all([bought, entitlement])
        seconds = entitlement.seconds or 0
        try:
            ledger.book(s, "purchase", bought.id, operator_id, f"{tariff.name} ×{quantity}",
                        domain.postings_for_purchase(operator_id, tariff, price,
                                                     domain.credit_account(operator_id), seconds), ctx.now)
        except ledger.Overdrawn as short:
            raise domain.insufficient_credit(price.gross_cents, short.available)
        s.flush()
        issued = invoices.issue(s, bought.id, operator_id, [{
            "description": tariff.name + (f" (VIN {vin})" if vin else ""), "quantity": quantity,
            "net_cents": price.net_cents}], buyer, ctx.seller, price, ctx.now)
        tell_invoice(uow, ctx.mailer, ctx.portal_url, buyer, issued, "")
        uow.emit("AccessPurchased", {
            "operator_id": operator_id, "purchase_id": bought.id, "entitlement_id": entitlement.id,
            "tariff_code": tariff.code, "scopes": entitlement.scopes, "vin": vin,
            "valid_from": entitlement.valid_from, "valid_until": entitlement.valid_until,
            "seconds": entitlement.seconds, "seats": entitlement.seats,
            "sessions": entitlement.sessions_left}, subject=operator_id)
        return _purchase_view(bought, entitlement)

    return once(ctx.store, find, create, replay)


def _spent(s, user_id, now):
    """What a user has spent this calendar month, gross: purchases and shop orders charged."""
    since = domain.month_start(now)
    bought = s.scalar(select(func.coalesce(func.sum(Purchase.gross_cents), 0)).where(
        Purchase.user_id == user_id, Purchase.created_at >= since))
    ordered = s.scalar(select(func.coalesce(func.sum(ShopPayment.gross_cents), 0)).where(
        ShopPayment.user_id == user_id, ShopPayment.status == "captured", ShopPayment.updated_at >= since))
    return bought + ordered


def _entitlement(bought, tariff, quantity, now):
    return Entitlement(id=bought.entitlement_id, operator_id=bought.operator_id, purchase_id=bought.id,
                       vin=bought.vin, **domain.entitlement_terms(tariff, quantity, now))


def purchases(ctx, actor):
    with ctx.store.read() as s:
        rows = s.execute(select(Purchase, Entitlement).join(Entitlement, Entitlement.id == Purchase.entitlement_id)
                         .where(Purchase.operator_id == actor["operator_id"])
                         .order_by(Purchase.created_at.desc())).all()
        return {"purchases": [_purchase_view(p, e) for p, e in rows]}


def _purchase_view(p, e):
    return {"id": p.id, "tariff_code": p.tariff_code, "tariff_name": p.tariff_name, "vin": p.vin,
            "quantity": p.quantity, "net_cents": p.net_cents, "vat_cents": p.vat_cents, "vat_rate": p.vat_rate,
            "vat_treatment": p.vat_treatment, "gross_cents": p.gross_cents, "currency": "EUR",
            "paid_with": p.paid_with, "created_at": p.created_at, "entitlement": _entitlement_view(e, None)}


# ---- invoices -----------------------------------------------------------------------------------------------------

def list_invoices(ctx, actor):
    with ctx.store.read() as s:
        rows = s.scalars(select(Invoice).where(Invoice.operator_id == actor["operator_id"])
                         .order_by(Invoice.year.desc(), Invoice.sequence.desc())).all()
        return {"invoices": [invoices.view(i) for i in rows]}


def invoice(ctx, actor, invoice_id):
    with ctx.store.read() as s:
        found = s.get(Invoice, invoice_id)
        domain.require_own_invoice(found, actor["operator_id"])
        return found


def invoice_pdf(ctx, actor, invoice_id):
    """The stored PDF; rendered and stored on first request, so the stored copy is the one of record."""
    found = invoice(ctx, actor, invoice_id)
    if found.pdf_key is not None:
        return found, ctx.blobs.get(found.pdf_key)
    document = invoices.render(found)
    key = invoices.pdf_key(found)
    ctx.blobs.put(key, document, "application/pdf")
    with ctx.store.transaction() as uow:
        uow.session.execute(update(Invoice).where(Invoice.id == found.id, Invoice.pdf_key.is_(None)).values(pdf_key=key))
    return found, ctx.blobs.get(key)


# ---- entitlements -----------------------------------------------------------------------------------------------

def entitlements(ctx, actor):
    """What the operator may use now: open windows with the seconds they have left, and the programming balance."""
    with ctx.store.read() as s:
        windows = s.scalars(select(Entitlement).where(
            Entitlement.operator_id == actor["operator_id"], Entitlement.valid_until.is_not(None),
            Entitlement.valid_until > ctx.now).order_by(Entitlement.valid_until)).all()
        seconds = ledger.balance(s, domain.seconds_account(actor["operator_id"]))
        return {"as_of": ctx.now, "windows": [_entitlement_view(e, ctx.now) for e in windows],
                "programming_seconds": seconds,
                "diagnosis_seconds": ledger.balance(s, domain.seconds_account(actor["operator_id"], "diagnosis")),
                "credit_cents": ledger.balance(s, domain.credit_account(actor["operator_id"]))}


def _entitlement_view(e, now):
    view = {"id": e.id, "kind": e.kind, "scopes": e.scopes, "vin": e.vin, "seats": e.seats,
            "valid_from": e.valid_from, "valid_until": e.valid_until, "seconds": e.seconds,
            "sessions_left": e.sessions_left}
    if now is not None and e.valid_until is not None:
        view["remaining_seconds"] = max(0, int((e.valid_until - now).total_seconds()))
    return view


WINDOW_KINDS = ("access", "vin_pass", "licence", "data_subscription")


def measure_entitlements(ctx):
    """How many access windows, VIN passes and licences are open now, for the business dashboard."""
    with ctx.store.read() as s:
        open_now = dict(s.execute(select(Entitlement.kind, func.count()).where(
            Entitlement.valid_from <= ctx.now, Entitlement.valid_until > ctx.now,
            Entitlement.expired_at.is_(None)).group_by(Entitlement.kind)).all())
    for kind in WINDOW_KINDS:
        metrics.ENTITLEMENTS_ACTIVE.labels(kind).set(open_now.get(kind, 0))


def expire_windows(ctx, batch=200):
    """Publish AccessExpired for every window that has closed; the conditional update lets one replica win."""
    with ctx.store.read() as s:
        due = s.scalars(select(Entitlement).where(
            Entitlement.expired_at.is_(None), Entitlement.valid_until.is_not(None),
            Entitlement.valid_until <= ctx.now).order_by(Entitlement.valid_until).limit(batch)).all()
    for e in due:
        with ctx.store.transaction() as uow:
            closed = uow.session.execute(update(Entitlement).where(
                Entitlement.id == e.id, Entitlement.expired_at.is_(None), Entitlement.valid_until <= ctx.now)
                .values(expired_at=ctx.now)).rowcount
            if closed:
                uow.emit("AccessExpired", {"operator_id": e.operator_id, "entitlement_id": e.id, "scopes": e.scopes,
                                           "vin": e.vin, "expired_at": e.valid_until}, subject=e.operator_id)
    return len(due)


# ---- VIN passes: one programming session for that vehicle -------------------------------------------------------

def claim_vin_session(ctx, claim):
    """Programming asks before it starts a session for a VIN: the operator's open VIN pass for that vehicle pays
    for it (its one session), instead of programming seconds. The same session id claims once."""
    operator_id, vin, session_id = claim["operator_id"], claim["vin"], claim["session_id"]

    def answer(s, claimed):
        return {"session_id": session_id, "entitlement_id": claimed.entitlement_id, "vin": vin,
                "valid_until": s.get(Entitlement, claimed.entitlement_id).valid_until}

    def replay(s, claimed):  # the same session id claims once: its first claim stands
        domain.require_same_claim(claimed, operator_id, vin)
        return answer(s, claimed)

    def create(uow):
        return answer(uow.session, _take_vin_session(uow.session, operator_id, vin, session_id, ctx.now))

    return once(ctx.store, lambda s: s.get(VinPassSession, session_id), create, replay)[0]


def _take_vin_session(s, operator_id, vin, session_id, now):
    passes = s.scalars(select(Entitlement.id).where(
        Entitlement.operator_id == operator_id, Entitlement.kind == "vin_pass", Entitlement.vin == vin,
        Entitlement.valid_from <= now, Entitlement.valid_until > now, Entitlement.sessions_left > 0)
        .order_by(Entitlement.valid_until)).all()
    for entitlement_id in passes:  # the conditional update lets one of two racing claims have the session
        taken = s.execute(update(Entitlement).where(Entitlement.id == entitlement_id, Entitlement.sessions_left > 0)
                          .values(sessions_left=Entitlement.sessions_left - 1)).rowcount
        if taken:
            claimed = VinPassSession(session_id=session_id, entitlement_id=entitlement_id, operator_id=operator_id,
                                     vin=vin, claimed_at=now)
            s.add(claimed)
            s.flush()
            return claimed
    raise domain.no_vin_pass_session(vin)


# ---- metering ---------------------------------------------------------------------------------------------------

def meter_session(uow, event, now):
    """Debit exactly the seconds a programming session used, once per session; nothing when the failure was
    ours, and a CreditIssued says why. A session a VIN pass paid for costs no seconds; failed on our side, it
    gives the pass its session back."""
    data = event.data
    operator_id, session_id, used = data["operator_id"], data["session_id"], data["seconds_used"]
    by_pass = uow.session.get(VinPassSession, session_id)
    action, detail = domain.metering(by_pass is not None, by_pass is not None and by_pass.returned_at is not None,
                                     data.get("failure_side"), used)
    if action == "return_pass":
        by_pass.returned_at = now
        uow.session.execute(update(Entitlement).where(Entitlement.id == by_pass.entitlement_id)
                            .values(sessions_left=Entitlement.sessions_left + 1))
        _issue_credit(uow, operator_id, detail, now, seconds=0, session_id=session_id)
    elif action == "credit":
        _issue_credit(uow, operator_id, detail, now, seconds=used, session_id=session_id)
    if action != "debit" or _booked(uow.session, f"session:{session_id}"):
        return
    available = ledger.balance(uow.session, domain.seconds_account(operator_id))
    debit = min(used, available)
    if debit < used:  # programming reserves before it runs; this means a reservation was bypassed
        log.error("session %s used %s s but operator %s held %s s", session_id, used, operator_id, available)
    ledger.book(uow.session, "metering", f"session:{session_id}", operator_id,
                f"Programming session {session_id}: {used} s", domain.postings_for_metering(operator_id, debit), now)


def meter_diagnosis(uow, event, now):
    """Debit exactly the seconds a diagnosis or coding run used, of the time it ran on (remote diagnosis, or
    programming for coding), once per run (a VIN pass paid: nothing)."""
    data = event.data
    if data["paid_by"] != "time" or not data["seconds_used"] or _booked(uow.session, f"diagnosis:{data['run_id']}"):
        return
    operator_id, used, time = data["operator_id"], data["seconds_used"], data.get("time", "diagnosis")
    available = ledger.balance(uow.session, domain.seconds_account(operator_id, time))
    debit = min(used, available)
    if debit < used:  # programming reserves before a run starts; this means a reservation was bypassed
        log.error("diagnosis run %s used %s s but operator %s held %s s", data["run_id"], used, operator_id, available)
    ledger.book(uow.session, "metering", f"diagnosis:{data['run_id']}", operator_id,
                f"{'Remote diagnosis' if time == 'diagnosis' else 'Coding'} {data['kind']} on {data['vin']}: {used} s",
                domain.postings_for_metering(operator_id, debit, time), now)


def _issue_credit(uow, operator_id, reason, now, seconds=0, amount_cents=0, session_id=None, extended=()):
    """Time or money given back: the Credit row and its CreditIssued, together."""
    credit_id = new_id()
    uow.session.add(Credit(id=credit_id, operator_id=operator_id, reason=reason, seconds=seconds,
                           amount_cents=amount_cents, session_id=session_id, issued_at=now))
    uow.emit("CreditIssued", {"operator_id": operator_id, "credit_id": credit_id, "reason": reason,
                              "seconds": seconds, "amount_cents": amount_cents, "session_id": session_id,
                              "extended": list(extended), "issued_at": now}, subject=operator_id)


def _booked(session, reference):
    return session.scalar(select(Journal.id).where(Journal.reference == reference)) is not None


# ---- shop orders -----------------------------------------------------------------------------------------------

def tell_invoice(uow, mailer, portal_url, buyer, invoice, terms):
    """The workshop's owner hears of a new invoice, once it is committed."""
    if mailer is None or not buyer.owner_email:
        return
    mailer.send_later(uow, mails.mail(
        "invoice_issued", buyer.owner_email, buyer.country, f"{portal_url.rstrip('/')}/#/billing",
        number=invoice.number, gross=f"{invoice.gross_cents / 100:.2f}", issued=invoice.issued_at.date().isoformat(),
        terms=terms))


def remind_of_ending_access(ctx, within_hours=24, batch=200):
    """Windows that end within a day: their owner is told once (the conditional update lets one replica win)."""
    with ctx.store.read() as s:
        due = s.execute(select(Entitlement, Buyer).join(Buyer, Buyer.operator_id == Entitlement.operator_id).where(
            Entitlement.reminded_at.is_(None), Entitlement.expired_at.is_(None),
            Entitlement.valid_until > ctx.now, Entitlement.valid_until <= ctx.now + timedelta(hours=within_hours))
            .limit(batch)).all()
    for entitlement, buyer in due:
        with ctx.store.transaction() as uow:
            told = uow.session.execute(update(Entitlement).where(
                Entitlement.id == entitlement.id, Entitlement.reminded_at.is_(None)).values(reminded_at=ctx.now)).rowcount
            if told and buyer.owner_email and ctx.mailer is not None:
                tariff = uow.session.get(Purchase, entitlement.purchase_id).tariff_name
                ctx.mailer.send_later(uow, mails.mail(
                    "access_ending", buyer.owner_email, buyer.country, f"{ctx.portal_url.rstrip('/')}/#/billing",
                    tariff=tariff, for_vin=f" (VIN {entitlement.vin})" if entitlement.vin else "",
                    until=entitlement.valid_until.strftime("%Y-%m-%d %H:%M")))
    return len(due)


def charge_order(uow, data, seller, now, mailer=None, portal_url=""):
    """OrderPlaced: take the order's price, VAT by the buyer, from the credit account, or put it on an invoice
    payable in 14 days within the limit of open invoices staff set for the workshop (none before they verified
    it); answer the shop with PaymentCaptured or PaymentRefused. Once per order, and never for an order
    cancelled before it arrived."""
    s = uow.session
    order_id, operator_id = data["order_id"], data["operator_id"]
    if s.get(ShopPayment, order_id) is not None:
        return
    buyer = s.get(Buyer, operator_id)
    quote = domain.quote(data["total_cents"], seller, buyer) if buyer else None
    on_invoice = data["payment_method"] == "invoice"
    account = domain.invoices_due_account(operator_id) if on_invoice else domain.credit_account(operator_id)
    invoice_limit_cents = buyer.invoice_limit_cents if buyer else 0
    available = ledger.balance(s, account) + (invoice_limit_cents if on_invoice else 0)
    reason = domain.order_refusal(quote, on_invoice, available, invoice_limit_cents)
    if reason is None and quote is not None and data.get("spending") is not None:
        over = spending.refusal(data["spending"], quote.gross_cents, _spent(s, data.get("user_id"), now), on_invoice)
        reason = over.message if over else None
    if reason is not None:
        s.add(ShopPayment(order_id=order_id, operator_id=operator_id, status="refused", reason=reason, updated_at=now))
        uow.emit("PaymentRefused", {"order_id": order_id, "operator_id": operator_id, "reason": reason,
                                    "refused_at": now}, subject=operator_id)
        return
    # a race with another charge ends in ledger.Overdrawn: the transaction rolls back and the event comes again
    ledger.book(s, "shop_order", f"order:{order_id}", operator_id, f"Shop order {order_id}",
                domain.postings_for_shop_order(quote, account), now)
    s.add(ShopPayment(order_id=order_id, operator_id=operator_id, status="captured", net_cents=quote.net_cents,
                      gross_cents=quote.gross_cents, updated_at=now, user_id=data.get("user_id")))
    s.flush()
    terms = "Payable within 14 days by bank transfer." if on_invoice else "Paid from the AOS credit account."
    issued = invoices.issue(s, order_id, operator_id, [
        {"description": f"{line['name']} ({line['sku']})" if line.get("name") else line["sku"],
         "quantity": line["quantity"],
         "net_cents": line["quantity"] * line["unit_price_cents"]} for line in data["lines"]], buyer, seller, quote, now,
        terms=terms)
    tell_invoice(uow, mailer, portal_url, buyer, issued, terms)
    uow.emit("PaymentCaptured", {"order_id": order_id, "operator_id": operator_id, "payment_id": f"order:{order_id}",
                                 "amount_cents": quote.gross_cents, "captured_at": now}, subject=operator_id)


def refund_order(uow, data, seller, now):
    """OrderCancelled: give back what was captured (CreditIssued says so); an order not yet charged is voided so
    that a late OrderPlaced takes nothing."""
    s = uow.session
    order_id, operator_id = data["order_id"], data["operator_id"]
    payment = s.get(ShopPayment, order_id)
    if payment is None:
        s.add(ShopPayment(order_id=order_id, operator_id=operator_id, status="void", reason=data["reason"],
                          updated_at=now))
        return
    if payment.status != "captured":
        return
    postings = ledger.postings_of(s, f"order:{order_id}")
    ledger.book(s, "shop_refund", f"refund:order:{order_id}", operator_id, f"Refund of shop order {order_id}",
                domain.reversed_postings(postings), now)
    payment.status, payment.updated_at = "refunded", now
    invoices.credit_note(s, s.scalar(select(Invoice).where(Invoice.purchase_id == order_id)), now)
    back = ("taken off your open invoices" if charged_from_invoice(postings, operator_id) else "back to your credit")
    _issue_credit(uow, operator_id, f"Shop order {order_id} cancelled before shipping: "
                  f"{payment.gross_cents / 100:.2f} EUR {back}.", now, amount_cents=payment.gross_cents)


def set_invoice_limit(ctx, payload, set_by):
    """Platform staff (`set_by`, from their token): a workshop they verified may owe up to this much on open shop
    invoices (0 closes pay on invoice again; what is owed stays owed). Who set it and when is kept with it."""
    with ctx.store.transaction() as uow:
        buyer = uow.session.get(Buyer, payload["operator_id"])
        domain.require_known_workshop(buyer, payload["operator_id"])
        buyer.invoice_limit_cents = payload["limit_cents"]
        buyer.invoice_limit_set_by, buyer.invoice_limit_set_at = set_by, ctx.now
        owed = ledger.balance(uow.session, domain.invoices_due_account(buyer.operator_id))
        return {"operator_id": buyer.operator_id, "limit_cents": buyer.invoice_limit_cents, "owed_cents": -owed,
                "set_by": buyer.invoice_limit_set_by, "set_at": buyer.invoice_limit_set_at}


def settle_invoice(ctx, number, bank_reference):
    """Platform staff: the bank received what a shop invoice asked for; the workshop owes that much less and its
    limit of open invoices has room again. Once per invoice."""
    with ctx.store.transaction() as uow:
        s = uow.session
        found = s.scalar(select(Invoice).where(Invoice.number == number))
        payment = s.get(ShopPayment, found.purchase_id) if found else None
        postings = ledger.postings_of(s, f"order:{payment.order_id}") if payment else []
        on_invoice = charged_from_invoice(postings, found.operator_id if found else "")
        domain.require_open_shop_invoice(number, on_invoice, payment and payment.status,
                                         on_invoice and _booked(s, f"settled:{found.id}"))
        due = domain.invoices_due_account(found.operator_id)
        ledger.book(s, "invoice_settled", f"settled:{found.id}", found.operator_id,
                    f"Invoice {number} paid by bank transfer ({bank_reference})",
                    [("payments:bank", domain.EUR, -found.gross_cents), (due, domain.EUR, found.gross_cents)], ctx.now)
        return {"number": number, "settled_cents": found.gross_cents,
                "still_owed_cents": -ledger.balance(s, due)}


def charged_from_invoice(postings, operator_id):
    return any(account == domain.invoices_due_account(operator_id) for account, _, _ in postings)


# ---- outages ------------------------------------------------------------------------------------------------------

def credit_outage(ctx, started_at, ended_at):
    """Platform staff: lengthen every window that overlapped an outage by the overlap, and tell each operator why."""
    domain.require_outage_over(started_at, ended_at, ctx.now)
    per_operator = {}
    try:
        with ctx.store.transaction() as uow:
            s = uow.session
            s.add(Outage(id=new_id(), started_at=started_at, ended_at=ended_at, credited_at=ctx.now))
            s.flush()
            hit = s.scalars(select(Entitlement).where(
                Entitlement.valid_until.is_not(None), Entitlement.valid_from < ended_at,
                Entitlement.valid_until > started_at)).all()
            for e in hit:
                extra = domain.overlap_seconds(e.valid_from, e.valid_until, started_at, ended_at)
                e.valid_until = e.valid_until + timedelta(seconds=extra)
                if e.expired_at is not None and e.valid_until > ctx.now:
                    e.expired_at = None  # open again; AccessExpired follows at the new end
                per_operator.setdefault(e.operator_id, []).append((e, extra))
            for operator_id, windows in per_operator.items():
                _issue_credit(uow, operator_id, f"Service outage {started_at.isoformat()} to {ended_at.isoformat()}: "
                              "access extended.", ctx.now, seconds=sum(extra for _, extra in windows),
                              extended=[{"entitlement_id": e.id, "valid_until": e.valid_until} for e, _ in windows])
    except IntegrityError:
        raise domain.outage_credited_already()
    return {"operators": len(per_operator), "windows": sum(len(w) for w in per_operator.values())}


# ---- the books ----------------------------------------------------------------------------------------------------

def check_books(ctx):
    with ctx.store.read() as s:
        problems = ledger.check(s)
        return {"balanced": not problems, "problems": problems}
