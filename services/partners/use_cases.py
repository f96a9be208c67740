"""What partners does, step by step: a workshop's API keys issued (the secret shown once), listed with their use,
revoked; and every request made with a key checked, counted and throttled here, the key's proof signed for the
services (who take the workshop from it, as from a user's token)."""
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update

from services.partners import domain, metrics
from services.partners.models import ApiKey, Attempt, Delivery, KeyUse, WebhookEndpoint
from services.shared import mail
from services.shared.database import insert_if_absent
from services.shared.errors import AosError, NotFound
from services.shared.facts import publish


@dataclass
class Context:
    store: object  # services.shared.database.Store
    now: datetime
    rate: domain.Rate = None
    sign: object = None  # (key row) -> the key's proof for the services
    resolve: object = None  # host -> its addresses (ip_address objects), [] when it does not resolve
    development: bool = False  # webhooks to this machine allowed (the demo receiver)
    me: object = None  # actor -> identity's user and workshop (who hears of a disabled endpoint)
    mailer: object = None
    first_wait: float = 5.0  # seconds before a failed delivery's first retry


def _rule(row):
    return domain.ApiKey(row.id, row.operator_id, row.name, row.scopes, row.secret_hash, row.created_at,
                         row.expires_at, row.revoked_at)


def _view(ctx, row, windows):
    return {"id": row.id, "name": row.name, "scopes": row.scopes, "prefix": f"{domain.PREFIX}{row.id[:8]}",
            "state": _rule(row).state(ctx.now), "created_at": row.created_at, "expires_at": row.expires_at,
            "revoked_at": row.revoked_at, "last_used_at": row.last_used_at,
            "usage": domain.usage_by_day(windows, ctx.now.date())}


def issue_key(ctx, actor, payload):
    domain.require_key_keeper(actor)
    key_id, secret, text = domain.new_key()
    with ctx.store.transaction() as uow:
        s = uow.session
        active = s.scalar(select(func.count()).select_from(ApiKey).where(
            ApiKey.operator_id == actor["operator_id"], ApiKey.revoked_at.is_(None), ApiKey.expires_at > ctx.now))
        domain.may_issue(active)
        row = ApiKey(id=key_id, operator_id=actor["operator_id"], created_by=actor["user_id"], name=payload["name"],
                     scopes=sorted(set(payload["scopes"])), secret_hash=domain.digest(secret), created_at=ctx.now,
                     expires_at=domain.expiry(ctx.now, payload["expires_in_days"]))
        s.add(row)
        uow.emit("ApiKeyIssued", {"key_id": key_id, "operator_id": row.operator_id, "user_id": actor["user_id"],
                                  "name": row.name, "scopes": row.scopes, "expires_at": row.expires_at,
                                  "issued_at": ctx.now}, subject=key_id)
        uow.after_commit(lambda: metrics.KEYS.labels("issued").inc())
        return _view(ctx, row, []) | {"key": text}


def keys(ctx, actor):
    domain.require_key_keeper(actor)
    since = domain.Rate.window(ctx.now) - domain.USAGE_DAYS * 24 * 60
    with ctx.store.read() as s:
        rows = s.scalars(select(ApiKey).where(ApiKey.operator_id == actor["operator_id"])
                         .order_by(ApiKey.created_at.desc())).all()
        windows = {}
        for key_id, window, requests in s.execute(
                select(KeyUse.key_id, KeyUse.minute, KeyUse.requests)
                .where(KeyUse.key_id.in_([r.id for r in rows]), KeyUse.minute > since)):
            windows.setdefault(key_id, []).append((window, requests))
        return {"keys": [_view(ctx, r, windows.get(r.id, [])) for r in rows], "scopes": domain.SCOPES}


def revoke_key(ctx, actor, key_id):
    """Revoked at once: partners checks the key on every request, so the next one is refused. A key of another
    workshop is not found (it is not told apart from one that does not exist)."""
    domain.require_key_keeper(actor)
    with ctx.store.transaction() as uow:
        row = uow.session.get(ApiKey, key_id, with_for_update=True)
        if row is None or row.operator_id != actor["operator_id"]:
            raise NotFound("KEY_NOT_FOUND", "Your workshop has no API key with this id.", {"key_id": key_id})
        rule = _rule(row)
        facts = rule.revoke(ctx.now, actor["user_id"])
        if facts:
            row.revoked_at, row.revoked_by = rule.revoked_at, actor["user_id"]
            uow.after_commit(lambda: metrics.KEYS.labels("revoked").inc())
        publish(uow, facts, key_id)
        return _view(ctx, row, [])


OUTCOMES = {"API_KEY_INVALID": "invalid", "API_KEY_REVOKED": "revoked", "API_KEY_EXPIRED": "expired",
            "KEY_SCOPE": "scope", "KEY_THROTTLED": "throttled"}


def admit(ctx, payload):
    """A request made with a key: the key's, unrevoked, unexpired, given the scope, within its rate; counted in its
    minute (a refused request is not). The key's proof for the services and the rate for the RateLimit headers."""
    try:
        key_id, secret = domain.parse(payload["key"])
        with ctx.store.transaction() as uow:
            s = uow.session
            row = s.get(ApiKey, key_id)
            if row is None:
                raise domain.invalid()
            _rule(row).admit(secret, payload["scope"], ctx.now)
            window = domain.Rate.window(ctx.now)
            if insert_if_absent(s, KeyUse, key_id=key_id, minute=window, requests=0):
                row.last_used_at = ctx.now  # the key's first request of a minute: "last used" to the minute
            counted = s.scalar(update(KeyUse).where(KeyUse.key_id == key_id, KeyUse.minute == window)
                               .values(requests=KeyUse.requests + 1).returning(KeyUse.requests))
            rate = ctx.rate.judge(counted, ctx.now)
            token = ctx.sign(row)
    except AosError as refused:
        metrics.KEY_CHECKS.labels(OUTCOMES.get(refused.code, "invalid")).inc()
        raise
    metrics.KEY_CHECKS.labels("admitted").inc()
    return {"token": token, "rate": rate}


# ---- webhooks ---------------------------------------------------------------------------------------------------

def _endpoint_view(row, secret=False):
    view = {"id": row.id, "url": row.url, "description": row.description, "event_types": row.event_types,
            "created_at": row.created_at, "state": "disabled" if row.disabled_at else "active",
            "disabled_at": row.disabled_at, "disabled_reason": row.disabled_reason,
            "last_success_at": row.last_success_at, "previous_secret_until": row.previous_until}
    return view | ({"secret": row.secret} if secret else {})


def _checked_url(ctx, url):
    host = domain.host_of(url)
    domain.check_endpoint_url(url, ctx.resolve(host) if host else [], ctx.development)


def create_endpoint(ctx, actor, payload):
    """An endpoint for the workshop's facts it subscribes to; its signing secret in this answer (and on rotation)."""
    domain.require_key_keeper(actor)
    _checked_url(ctx, payload["url"])
    who = ctx.me(actor)
    with ctx.store.transaction() as uow:
        row = WebhookEndpoint(id=uuid.uuid4().hex, operator_id=actor["operator_id"], created_by=actor["user_id"],
                              contact_email=who["user"]["email"], contact_country=who["operator"]["country"],
                              url=payload["url"], description=payload["description"],
                              event_types=sorted(set(payload["event_types"])), secret=domain.new_secret(),
                              created_at=ctx.now)
        uow.session.add(row)
        return _endpoint_view(row, secret=True)


def _own_endpoint(s, actor, endpoint_id, lock=False, keeper=domain.require_key_keeper):
    keeper(actor)
    row = s.get(WebhookEndpoint, endpoint_id, with_for_update=lock)
    if row is None or row.operator_id != actor["operator_id"]:
        raise NotFound("ENDPOINT_NOT_FOUND", "Your workshop has no webhook endpoint with this id.",
                       {"endpoint_id": endpoint_id})
    return row


def endpoints(ctx, actor, catalogue):
    domain.require_webhook_reader(actor)
    with ctx.store.read() as s:
        rows = s.scalars(select(WebhookEndpoint).where(WebhookEndpoint.operator_id == actor["operator_id"])
                         .order_by(WebhookEndpoint.created_at)).all()
        return {"endpoints": [_endpoint_view(r) for r in rows], "event_types": catalogue}


def change_endpoint(ctx, actor, endpoint_id, payload):
    """Its event types, or enabled again (a disabled endpoint takes new facts from now on). The URL is checked
    again before the transaction: a name lookup may take seconds, and no lock waits on it."""
    if payload.get("enabled") is True:
        with ctx.store.read() as s:
            url = _own_endpoint(s, actor, endpoint_id).url
        _checked_url(ctx, url)
    with ctx.store.transaction() as uow:
        row = _own_endpoint(uow.session, actor, endpoint_id, lock=True)
        if "event_types" in payload:
            row.event_types = sorted(set(payload["event_types"]))
        if payload.get("enabled") is True:
            row.disabled_at, row.disabled_reason = None, None
        elif payload.get("enabled") is False and row.disabled_at is None:
            row.disabled_at, row.disabled_reason = ctx.now, "disabled by the workshop"
        return _endpoint_view(row)


def rotate_secret(ctx, actor, endpoint_id):
    """A new secret; the one before still signs for ROTATION_OVERLAP, so the receiver can switch without a gap."""
    with ctx.store.transaction() as uow:
        row = _own_endpoint(uow.session, actor, endpoint_id, lock=True)
        row.previous_secret, row.previous_until = row.secret, ctx.now + domain.ROTATION_OVERLAP
        row.secret = domain.new_secret()
        return _endpoint_view(row, secret=True)


def delete_endpoint(ctx, actor, endpoint_id):
    with ctx.store.transaction() as uow:
        s = uow.session
        row = _own_endpoint(s, actor, endpoint_id, lock=True)
        deliveries = select(Delivery.id).where(Delivery.endpoint_id == row.id)
        s.execute(delete(Attempt).where(Attempt.delivery_id.in_(deliveries)))
        s.execute(delete(Delivery).where(Delivery.endpoint_id == row.id))
        s.delete(row)
        return {"id": endpoint_id, "deleted": True}


def deliveries(ctx, actor, endpoint_id, query):
    """The endpoint's deliveries, newest first, each with every attempt and the receiver's answer."""
    with ctx.store.read() as s:
        _own_endpoint(s, actor, endpoint_id, keeper=domain.require_webhook_reader)
        # one statement, so one snapshot: read apart, a delivery could show an attempt whose outcome it did not yet
        newest = (select(Delivery.id).where(Delivery.endpoint_id == endpoint_id)
                  .order_by(Delivery.created_at.desc(), Delivery.id).limit(query["limit"]))
        rows, tries = {}, {}
        for r, a in s.execute(select(Delivery, Attempt).outerjoin(Attempt, Attempt.delivery_id == Delivery.id)
                              .where(Delivery.id.in_(newest))
                              .order_by(Delivery.created_at.desc(), Delivery.id, Attempt.id)):
            rows[r.id] = r
            if a is not None:
                tries.setdefault(r.id, []).append({"attempted_at": a.attempted_at, "status_code": a.status_code,
                                                   "error": a.error, "duration_ms": a.duration_ms})
        return {"deliveries": [{"id": r.id, "event_id": r.event_id, "event_type": r.event_type,
                                "created_at": r.created_at, "status": r.status, "attempts": tries.get(r.id, []),
                                "next_attempt_at": r.next_attempt_at, "delivered_at": r.delivered_at}
                               for r in rows.values()]}


def redeliver(ctx, actor, endpoint_id, delivery_id):
    """Sent again now, as it was (the same webhook-id: a receiver that has it already drops it)."""
    with ctx.store.transaction() as uow:
        s = uow.session
        endpoint = _own_endpoint(s, actor, endpoint_id, keeper=domain.require_webhook_reader)
        row = s.get(Delivery, delivery_id, with_for_update=True)
        if row is None or row.endpoint_id != endpoint.id:
            raise NotFound("DELIVERY_NOT_FOUND", "This endpoint has no delivery with this id.",
                           {"delivery_id": delivery_id})
        row.status, row.next_attempt_at = "pending", ctx.now
        return {"id": row.id, "status": row.status, "next_attempt_at": row.next_attempt_at}


def listening(ctx):
    """Who takes which facts now: {operator id: event types} of the enabled endpoints, and the public types any
    endpoint takes. What a consumer asks before it opens a transaction: most facts are nobody's webhook."""
    by_operator, public = {}, set()
    with ctx.store.read() as s:
        for operator_id, types in s.execute(select(WebhookEndpoint.operator_id, WebhookEndpoint.event_types)
                                            .where(WebhookEndpoint.disabled_at.is_(None))):
            by_operator.setdefault(operator_id, set()).update(types)
            public.update(t for t in types if t in domain.PUBLIC_FACTS)
    return by_operator, public


def fan_out(ctx, event, body):
    """A fact, to every enabled endpoint of its workshop (or every one, for a public fact) subscribed to its
    type: a delivery each, once however often the fact is delivered to us."""
    with ctx.store.transaction() as uow:
        s = uow.session
        wanted = select(WebhookEndpoint).where(WebhookEndpoint.disabled_at.is_(None))
        if event.type not in domain.PUBLIC_FACTS:
            wanted = wanted.where(WebhookEndpoint.operator_id == event.data.get("operator_id"))
        made = 0
        for endpoint in s.scalars(wanted):
            if event.type in endpoint.event_types and domain.entitled(endpoint.operator_id, event.type, event.data):
                made += insert_if_absent(s, Delivery, id=f"msg_{uuid.uuid4().hex}", endpoint_id=endpoint.id,
                                         event_id=event.id, event_type=event.type, body=body, created_at=ctx.now,
                                         status="pending", attempts=0, next_attempt_at=ctx.now)
        return made


def due(ctx, limit, lease_seconds):
    """Deliveries due now, each leased (its next try moved past the lease) so that no other round or replica sends
    it meanwhile: (delivery id, url, body, secrets)."""
    with ctx.store.transaction() as uow:
        s = uow.session
        rows = s.execute(select(Delivery, WebhookEndpoint).join(WebhookEndpoint,
                                                                 WebhookEndpoint.id == Delivery.endpoint_id)
                         .where(Delivery.status == "pending", Delivery.next_attempt_at <= ctx.now,
                                WebhookEndpoint.disabled_at.is_(None))
                         .order_by(Delivery.next_attempt_at).limit(limit)
                         .with_for_update(of=Delivery, skip_locked=True)).all()
        for delivery, _ in rows:
            delivery.next_attempt_at = ctx.now + timedelta(seconds=lease_seconds)
        return [(d.id, e.url, d.body, domain.signing_secrets(e.secret, e.previous_secret, e.previous_until, ctx.now))
                for d, e in rows]


def attempted(ctx, delivery_id, status_code, error, duration_ms):
    """One try's outcome: delivered; or tried again later; or, after three days, failed, and the endpoint that
    answered nothing all that time disabled, its workshop told by mail (WebhookDisabled)."""
    with ctx.store.transaction() as uow:
        s = uow.session
        row = s.get(Delivery, delivery_id, with_for_update=True)
        endpoint = s.get(WebhookEndpoint, row.endpoint_id, with_for_update=True)
        s.add(Attempt(delivery_id=row.id, attempted_at=ctx.now, status_code=status_code,
                      error=(error or None) and error[:300], duration_ms=duration_ms))
        row.attempts += 1
        if domain.delivered(status_code):
            row.status, row.delivered_at, row.next_attempt_at = "delivered", ctx.now, None
            endpoint.last_success_at = ctx.now
            uow.after_commit(lambda: metrics.DELIVERIES.labels("delivered").inc())
            return "delivered"
        row.next_attempt_at = domain.next_attempt(row.created_at, row.attempts, ctx.now, ctx.first_wait)
        if row.next_attempt_at is not None:
            uow.after_commit(lambda: metrics.DELIVERIES.labels("retried").inc())
            return "retried"
        row.status = "failed"
        uow.after_commit(lambda: metrics.DELIVERIES.labels("failed").inc())
        if endpoint.disabled_at is None and domain.disables(endpoint.last_success_at, row.created_at):
            endpoint.disabled_at = ctx.now
            endpoint.disabled_reason = (f"no delivery reached {endpoint.url} for three days (last answer: "
                                        f"{status_code or error})")[:300]
            uow.emit("WebhookDisabled", {"endpoint_id": endpoint.id, "operator_id": endpoint.operator_id,
                                         "url": endpoint.url, "reason": endpoint.disabled_reason,
                                         "disabled_at": ctx.now}, subject=endpoint.id)
            ctx.mailer.send_later(uow, mail.from_words(WORDS, "disabled", endpoint.contact_email,
                                                       endpoint.contact_country, url=endpoint.url,
                                                       reason=endpoint.disabled_reason))
        return "failed"


WORDS = {"disabled": {
    "en": ("A webhook endpoint of your workshop was disabled",
           ["AOS could not deliver to {url} for three days and has stopped sending to it: {reason}.",
            "Once the receiver answers again, enable the endpoint in the portal (API keys and webhooks); facts from "
            "then on are sent, and the failed deliveries can be sent again from its delivery log."], None),
    "de": ("Ein Webhook-Endpunkt Ihrer Werkstatt wurde abgeschaltet",
           ["AOS konnte drei Tage lang nichts an {url} zustellen und sendet nicht mehr dorthin: {reason}.",
            "Sobald der Empfänger wieder antwortet, schalten Sie den Endpunkt im Portal wieder ein; dann wird wieder "
            "gesendet, und die gescheiterten Zustellungen lassen sich aus dem Zustellprotokoll erneut senden."],
           None)}}
