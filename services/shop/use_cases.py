"""What the shop does, step by step (its rules are domain.py's). An order takes its stock at once, in one
transaction with OrderPlaced; billing answers with PaymentCaptured or PaymentRefused; a refusal, a payment that
does not come in time, or the customer's cancellation before shipping gives the stock back and announces
OrderCancelled. Every step is a conditional update on the order's status, so a repeated or late message changes
nothing."""
import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from services.shared import spending
from services.shared.database import new_id
from services.shared.errors import InvalidInput, NotFound
from services.shared.facts import publish
from services.shared.idempotency import check_same_request, once, request_fingerprint
from services.shared.vat import price
from services.shop import domain, metrics
from services.shop.models import Order, Product

IMAGE_SECONDS = 3600


@dataclass
class Context:
    store: object
    now: datetime
    seller_country: str
    blobs: object = None
    sermi_check: object = None  # identity's: is the actor a SERMI-authorised technician now (raises if not)


# ---- catalogue --------------------------------------------------------------------------------------------------

def catalogue(ctx, country):
    with ctx.store.read() as s:
        return {"country": country, "products": [_product_view(ctx, p, country)
                                                 for p in s.scalars(select(Product).order_by(Product.sku)).all()]}


def product(ctx, sku, country):
    with ctx.store.read() as s:
        return _product_view(ctx, _known(s, sku), country)


def _known(session, sku, field="sku"):
    found = session.get(Product, sku)
    if found is None:
        raise NotFound("UNKNOWN_SKU", f"There is no product {sku!r} in the shop.", {"field": field, "sku": sku})
    return found


def _product_view(ctx, p, country):
    quoted = price(p.net_cents, ctx.seller_country, country, None)
    return {"sku": p.sku, "name": p.name, "description": p.description, "technical_data": p.technical_data,
            "needed_for": p.needed_for, "net_cents": quoted.net_cents, "vat_cents": quoted.vat_cents,
            "vat_rate": str(quoted.vat_rate), "gross_cents": quoted.gross_cents, "currency": "EUR", "stock": p.stock,
            "theft_relevant": p.theft_relevant,
            "image_url": ctx.blobs.signed_url(p.image_key, IMAGE_SECONDS) if p.image_key and ctx.blobs else None}


# ---- orders -------------------------------------------------------------------------------------------------------

def place_order(ctx, actor, payload, idempotency_key):
    fingerprint = request_fingerprint(payload)
    operator_id = actor["operator_id"]

    def find(s):
        return s.scalar(select(Order).where(Order.operator_id == operator_id, Order.idempotency_key == idempotency_key))

    def replay(s, existing):
        check_same_request(existing, fingerprint)
        return order_view(existing)

    rights = spending.rights_of(actor)
    # the budget is billing's to hold: it knows what this user spent
    spending.require_buyer(actor, on_invoice=payload["payment_method"] == "invoice")
    with ctx.store.read() as s:
        theft_relevant = s.scalar(select(Product.sku).where(
            Product.sku.in_([line["sku"] for line in payload["lines"]]), Product.theft_relevant.is_(True)).limit(1))
    if theft_relevant is not None:
        ctx.sermi_check(actor)  # identity asks the trust centre; a refusal is in the trail and answered 403

    def create(uow):
        s = uow.session
        domain.check_lines(payload["lines"])
        lines = []
        for index, line in enumerate(payload["lines"]):
            found = _known(s, line["sku"], f"lines.{index}.sku")
            # the reservation: units leave the stock only if enough are there, whoever else is ordering
            taken = s.execute(update(Product).where(Product.sku == found.sku, Product.stock >= line["quantity"])
                              .values(stock=Product.stock - line["quantity"])).rowcount
            if not taken:
                s.refresh(found)
                raise domain.out_of_stock(index, found.sku, line["quantity"], found.stock)
            lines.append({"sku": found.sku, "name": found.name, "quantity": line["quantity"],
                          "unit_net_cents": found.net_cents})
        order, facts = Order.place(new_id(), operator_id, actor["user_id"], idempotency_key, fingerprint, lines,
                                   payload["payment_method"], ctx.now, rights)
        s.add(order)
        s.flush()
        publish(uow, facts, subject=operator_id)
        units = sum(line["quantity"] for line in lines)
        uow.after_commit(lambda: (metrics.ORDERS.labels("placed").inc(), metrics.UNITS.inc(units)))
        return order_view(order)

    return once(ctx.store, find, create, replay)[0]


def order_view(o):
    return {"id": o.id, "status": o.status, "cancel_reason": o.cancel_reason, "lines": o.lines,
            "net_cents": o.net_cents, "payment_method": o.payment_method, "paid_cents": o.paid_cents, "currency": "EUR",
            "tracking_reference": o.tracking_reference, "placed_at": o.placed_at, "updated_at": o.updated_at}


def orders(ctx, actor):
    with ctx.store.read() as s:
        return {"orders": [order_view(o) for o in s.scalars(select(Order).where(
            Order.operator_id == actor["operator_id"]).order_by(Order.placed_at.desc())).all()]}


def order(ctx, actor, order_id):
    with ctx.store.read() as s:
        return order_view(_own(s, actor, order_id))


def _own(session, actor, order_id):
    found = session.get(Order, order_id)
    if found is None or found.operator_id != actor["operator_id"]:  # another's is as good as none
        raise NotFound("ORDER_NOT_FOUND", "There is no such order in your workshop.")
    return found


def cancel(ctx, actor, order_id):
    """The customer cancels before shipping: stock back, and billing refunds what it charged."""
    with ctx.store.transaction() as uow:
        found = _own(uow.session, actor, order_id)
        from_states = found.customer_cancels()
        if from_states:
            _cancel(uow, found, from_states, "by_customer", ctx.now)
        uow.session.refresh(found)
        return order_view(found)


def _cancel(uow, found, from_states, reason, now):
    """→ cancelled, once: the stock goes back and OrderCancelled goes out only for the winner."""
    moved = uow.session.execute(update(Order).where(Order.id == found.id, Order.status.in_(from_states))
                                .values(status="cancelled", cancel_reason=reason, updated_at=now)).rowcount
    if not moved:
        return False
    for line in found.lines:
        uow.session.execute(update(Product).where(Product.sku == line["sku"])
                            .values(stock=Product.stock + line["quantity"]))
    publish(uow, found.cancelled(reason, now), subject=found.operator_id)
    uow.after_commit(lambda: metrics.ORDERS.labels(reason).inc())
    return True


# ---- billing's answers and the payment deadline --------------------------------------------------------------------

def payment_captured(uow, data, now):
    uow.session.execute(update(Order).where(Order.id == data["order_id"], Order.status == "placed").values(
        status="paid", paid_cents=data["amount_cents"], payment_id=data["payment_id"], updated_at=now))
    # an order cancelled meanwhile stays cancelled: its OrderCancelled makes billing refund this payment


def payment_refused(uow, data, now):
    found = uow.session.get(Order, data["order_id"])
    if found is not None:
        _cancel(uow, found, ("placed",), "payment_refused", now)


def expire_unpaid(ctx, timeout_seconds, batch=100):
    """Orders billing has not answered in time give their stock back."""
    deadline = domain.unpaid_since(ctx.now, timeout_seconds)
    with ctx.store.read() as s:
        late = s.scalars(select(Order).where(Order.status == "placed", Order.placed_at < deadline)
                         .order_by(Order.placed_at).limit(batch)).all()
    for found in late:
        with ctx.store.transaction() as uow:
            _cancel(uow, found, ("placed",), "payment_timeout", ctx.now)
    return len(late)


# ---- platform staff -------------------------------------------------------------------------------------------------

def save_product(ctx, payload):
    with ctx.store.transaction() as uow:
        found = uow.session.get(Product, payload["sku"])
        if found is None:
            missing = [f for f in ("name", "description", "net_cents") if f not in payload]
            if missing:
                raise InvalidInput("VALIDATION_FAILED", "A new product needs " + ", ".join(missing) + ".",
                                   {"fields": {f: ["Missing data for required field."] for f in missing}})
            found = Product(sku=payload["sku"], stock=0, technical_data={}, needed_for=[], theft_relevant=False)
            uow.session.add(found)
        for field in ("name", "description", "technical_data", "needed_for", "net_cents", "theft_relevant"):
            if field in payload:
                setattr(found, field, payload[field])
        if "image_svg" in payload:
            data = payload["image_svg"].encode()
            found.image_key = f"shop/images/{hashlib.sha256(data).hexdigest()}.svg"
            ctx.blobs.put(found.image_key, data, "image/svg+xml")
        uow.session.flush()
        return _product_view(ctx, found, ctx.seller_country)


def receive_stock(ctx, payload):
    with ctx.store.transaction() as uow:
        _known(uow.session, payload["sku"])
        uow.session.execute(update(Product).where(Product.sku == payload["sku"])
                            .values(stock=Product.stock + payload["quantity"]))
    return product(ctx, payload["sku"], ctx.seller_country)


def mark_shipped(ctx, payload):
    return _advance(ctx, payload["order_id"], "ship", tracking_reference=payload["tracking_reference"])


def mark_delivered(ctx, order_id):
    return _advance(ctx, order_id, "deliver")


def _advance(ctx, order_id, action, **values):
    with ctx.store.transaction() as uow:
        found = uow.session.get(Order, order_id)
        if found is None:
            raise NotFound("ORDER_NOT_FOUND", "There is no such order.", {"field": "order_id"})
        before, after = domain.move(action, found.status)
        moved = uow.session.execute(update(Order).where(Order.id == order_id, Order.status == before)
                                    .values(status=after, updated_at=ctx.now, **values)).rowcount
        if not moved:  # another request moved it meanwhile
            uow.session.refresh(found)
            domain.move(action, found.status)
        uow.session.refresh(found)
        return order_view(found)
