"""The rules of a partner's API key, in plain Python: what a key is (an id anyone may see and a secret only its
holder has, stored as a hash), what it may read (its scopes, in words), how long it lives, how fast it may ask.

A key's secret is 32 random bytes: a fast hash (SHA-256) is right for it, as for GitHub's or Stripe's tokens; a
slow password hash would only make every request dearer, since nobody can guess 256 bits."""
import base64
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from services.partners.contracts import SCOPES
from services.partners.schemas import KEY_PATTERN, PREFIX
from services.shared.tokens import KEY_ROLE
from services.shared.errors import Conflict, Forbidden, TooManyRequests, Unauthenticated, invalid_field
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


def require_webhook_reader(actor):
    """Who reads a workshop's endpoints and delivery log and sends a delivery again: its key keepers, or a key
    given the `events` scope (the partner system the deliveries are for; proved so by services.shared.caller)."""
    if actor.get("role") != KEY_ROLE:
        require_key_keeper(actor)


# ---- webhooks ---------------------------------------------------------------------------------------------------
# A partner system's endpoint takes the facts it subscribed to, each signed as the Standard Webhooks specification
# says (webhook-id, webhook-timestamp, webhook-signature over "id.timestamp.body" with the endpoint's secret), the
# body a CloudEvents 1.0 envelope. It sees its own workshop's facts, and the public catalogue's changes.

PUBLIC_FACTS = ("CatalogueImported",)  # the manufacturer's catalogue changed: no workshop's business
ROTATION_OVERLAP = timedelta(hours=24)  # the secret before a rotation still signs, so receivers can switch over
GIVE_UP_AFTER = timedelta(days=3)  # a delivery is retried for three days, then failed
LONGEST_WAIT = timedelta(hours=12)
BACKOFF = 4  # each wait this many times the one before


def subscribable(catalogue):
    """The event types an endpoint may take: a workshop's own facts (their data name it) and the public ones."""
    return sorted(name for name, registration in catalogue.items()
                  if "operator_id" in registration.schema._declared_fields or name in PUBLIC_FACTS)


def entitled(operator_id, event_type, data):
    """Whether a fact goes to an endpoint of `operator_id`: its own workshop's, or a public one."""
    return event_type in PUBLIC_FACTS or data.get("operator_id") == operator_id


def new_secret():
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def signing_secrets(secret, previous, previous_until, now):
    """The secrets a delivery is signed with now: the current, and during the overlap the one before."""
    return [secret] + ([previous] if previous and previous_until and now < previous_until else [])


def next_attempt(created_at, attempts, now, first_wait):
    """When to try a delivery again after `attempts` failed tries (exponential: first_wait, ×4 each, at most 12 h),
    or None when three days since it was made have passed: it has failed."""
    wait = min(timedelta(seconds=first_wait * BACKOFF ** (attempts - 1)), LONGEST_WAIT)
    due = now + wait
    return None if due - created_at > GIVE_UP_AFTER else due


def disables(endpoint_last_success, delivery_created_at):
    """A delivery that failed for good disables its endpoint when nothing reached it since the delivery was made:
    it has answered nothing for three days."""
    return endpoint_last_success is None or endpoint_last_success < delivery_created_at


def delivered(status_code):
    return status_code is not None and 200 <= status_code < 300


# an address a webhook may never be sent to: ours, the cloud's metadata service, anything not on the internet
def refused_address(address, development):
    """Why a webhook may not go to `address` (an ip_address), or None. Loopback is allowed in development only
    (the demo receiver beside `make run`)."""
    if address.is_loopback:
        return None if development else "a loopback address"
    if address.is_link_local:
        return "a link-local address (the cloud's metadata service among them)"
    if address.is_private or getattr(address, "is_shared", False) or not address.is_global:
        return "a private or reserved address, inside a network"
    if address.is_multicast or address.is_unspecified or address.is_reserved:
        return "not an address a web server answers on"
    return None


def host_of(url):
    """The host a webhook URL names ("" for none): what its addresses are looked up for."""
    from urllib.parse import urlsplit
    try:
        return urlsplit(url).hostname or ""
    except ValueError:  # a malformed URL (an unclosed IPv6 bracket): no host
        return ""


def check_endpoint_url(url, addresses, development):
    """The URL a webhook is sent to: https (http to loopback in development), no credentials in it, and every
    address its host resolves to on the internet. `addresses`: the host's addresses (ip_address objects), or an
    empty list when it does not resolve. Raises InvalidInput naming the rule."""
    from urllib.parse import urlsplit
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # an unclosed IPv6 bracket, say
        raise invalid_url("an https:// URL") from None
    if parts.scheme not in ("https", "http") or not host:
        raise invalid_url("an https:// URL")
    if parts.username or parts.password:
        raise invalid_url("no user name or password in the URL: the signature proves who sends")
    if not addresses:
        raise invalid_url(f"a host that resolves: {parts.hostname} does not")
    for address in addresses:
        why = refused_address(address, development)
        if why:
            raise invalid_url(f"an address on the internet: {parts.hostname} is {address}, {why}")
    if parts.scheme == "http" and not (development and all(a.is_loopback for a in addresses)):
        raise invalid_url("an https:// URL (plain http only to this machine, in development)")


def invalid_url(rule):
    return invalid_field("WEBHOOK_URL_REFUSED", "url", "public_https", f"The webhook URL must be {rule}.")
