"""What partners does, step by step: a workshop's API keys issued (the secret shown once), listed with their use,
revoked; and every request made with a key checked, counted and throttled here, the key's proof signed for the
services (who take the workshop from it, as from a user's token)."""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update

from services.partners import domain, metrics
from services.partners.models import ApiKey, KeyUse
from services.shared.database import insert_if_absent
from services.shared.errors import AosError, NotFound
from services.shared.facts import publish


@dataclass
class Context:
    store: object  # services.shared.database.Store
    now: datetime
    rate: domain.Rate
    sign: object  # (key row) -> the key's proof for the services


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
            insert_if_absent(s, KeyUse, key_id=key_id, minute=window, requests=0)
            counted = s.scalar(update(KeyUse).where(KeyUse.key_id == key_id, KeyUse.minute == window)
                               .values(requests=KeyUse.requests + 1).returning(KeyUse.requests))
            rate = ctx.rate.judge(counted, ctx.now)
            row.last_used_at = ctx.now
            token = ctx.sign(row)
    except AosError as refused:
        metrics.KEY_CHECKS.labels(OUTCOMES.get(refused.code, "invalid")).inc()
        raise
    metrics.KEY_CHECKS.labels("admitted").inc()
    return {"token": token, "rate": rate}
