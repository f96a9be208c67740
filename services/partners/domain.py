"""The rules of a partner's API key, in plain Python: what a key is (an id anyone may see and a secret only its
holder has, stored as a hash), what it may read (its scopes, in words), how long it lives, how fast it may ask.

A key's secret is 32 random bytes: a fast hash (SHA-256) is right for it, as for GitHub's or Stripe's tokens; a
slow password hash would only make every request dearer, since nobody can guess 256 bits."""
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from services.partners.contracts import SCOPES
from services.partners.schemas import KEY_PATTERN, PREFIX
from services.shared.errors import Conflict, Forbidden, TooManyRequests, Unauthenticated
from services.shared.facts import Fact

MAX_ACTIVE_KEYS = 20  # per workshop: a key per tool or partner system, not per request
USAGE_DAYS = 7  # the days of use the portal shows per key


def new_key():
    """(id, secret, the key as its holder sends it)."""
    key_id, secret = uuid.uuid4().hex, secrets.token_urlsafe(32)
    return key_id, secret, f"{PREFIX}{key_id}_{secret}"


def digest(secret):
    return hashlib.sha256(secret.encode()).hexdigest()


def parse(text):
    """The key's id and secret from what was sent; refused in words when it is not a key's shape."""
    if not isinstance(text, str) or not KEY_PATTERN.match(text):
        raise invalid()
    key_id, _, secret = text[len(PREFIX):].partition("_")
    return key_id, secret


def invalid():
    return Unauthenticated("API_KEY_INVALID", "This API key is not valid: send the whole key as shown when it was "
                           "created (`Authorization: Bearer aos_...`).")


def scope_words(scope):
    return SCOPES[scope]


@dataclass
class ApiKey:
    """A key as its checks see it (the stored row's fields)."""
    id: str
    operator_id: str
    name: str
    scopes: list
    secret_hash: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None

    def state(self, now):
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= now else "active"

    def admit(self, secret, scope, now):
        """The holder of `secret` may read `scope` now, or the refusal in words: an unknown secret, a revoked or
        expired key (401), a scope the key was not given (403 naming it)."""
        if not hmac.compare_digest(self.secret_hash, digest(secret)):
            raise invalid()
        if self.revoked_at is not None:
            raise Unauthenticated("API_KEY_REVOKED", f"This API key ({self.name}) was revoked on "
                                  f"{self.revoked_at:%Y-%m-%d %H:%M} UTC; its workshop can create a new one in the "
                                  "portal (API keys).", {"revoked_at": self.revoked_at.isoformat()})
        if self.expires_at <= now:
            raise Unauthenticated("API_KEY_EXPIRED", f"This API key ({self.name}) expired on "
                                  f"{self.expires_at:%Y-%m-%d}; its workshop can create a new one in the portal "
                                  "(API keys).", {"expired_at": self.expires_at.isoformat()})
        if scope not in self.scopes:
            raise Forbidden("KEY_SCOPE", f"This API key may not read {scope_words(scope)} (scope `{scope}`): it was "
                            f"given {', '.join(self.scopes)}. Create a key with that scope.", {"scope": scope})

    def revoke(self, now, by):
        """Facts of the revocation; revoking a revoked key changes nothing."""
        if self.revoked_at is not None:
            return []
        self.revoked_at = now
        return [Fact("ApiKeyRevoked", {"key_id": self.id, "operator_id": self.operator_id, "user_id": by,
                                       "revoked_at": now})]


def may_issue(active_keys):
    if active_keys >= MAX_ACTIVE_KEYS:
        raise Conflict("KEY_LIMIT", f"Your workshop has {MAX_ACTIVE_KEYS} active API keys, the most it may have: "
                       "revoke one it no longer uses first.", {"limit": MAX_ACTIVE_KEYS})


def expiry(now, days):
    return now + timedelta(days=days)


@dataclass(frozen=True)
class Rate:
    """A key's requests per minute, in fixed windows: what it may still ask and when the window turns (the
    RateLimit-* headers' words)."""
    limit: int

    @staticmethod
    def window(now):
        return int(now.timestamp()) // 60

    @staticmethod
    def reset(now):
        return 60 - int(now.timestamp()) % 60

    def judge(self, counted, now):
        """The answer's rate after the `counted`th request of this window, or the refusal (429) past the limit."""
        reset = self.reset(now)
        if counted > self.limit:
            raise TooManyRequests("KEY_THROTTLED", f"This API key has made its {self.limit} requests of this minute: "
                                  f"wait {reset} s.", {"retry_after_seconds": reset, "limit": self.limit,
                                                       "remaining": 0, "reset_seconds": reset})
        return {"limit": self.limit, "remaining": self.limit - counted, "reset_seconds": reset}


def usage_by_day(windows, today):
    """Requests per day (UTC; the last USAGE_DAYS, oldest first) from (minute window, count) pairs."""
    days = [today - timedelta(days=n) for n in range(USAGE_DAYS - 1, -1, -1)]
    counts = dict.fromkeys(days, 0)
    for window, count in windows:
        day = datetime.fromtimestamp(window * 60, tz=timezone.utc).date()
        if day in counts:
            counts[day] += count
    return [{"day": day, "requests": counts[day]} for day in days]


KEY_KEEPERS = ("owner", "admin")  # who creates and revokes a workshop's keys: they read as the whole workshop


def require_key_keeper(actor):
    if actor.get("role") not in KEY_KEEPERS:
        raise Forbidden("ROLE_NOT_ALLOWED", "The workshop's owner or an admin manages its API keys.",
                        {"required_role": list(KEY_KEEPERS)})
