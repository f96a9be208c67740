"""Identity's rules in plain Python: VAT ids, password strength, TOTP codes, recovery codes, throttling, roles."""
import hashlib
import math
import secrets
from datetime import datetime, timedelta

import pyotp
import segno
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from services.identity.schemas import PASSWORD_MAX, PASSWORD_MIN, canonical_email
from services.shared import countries
from services.shared.errors import (Conflict, Forbidden, NotFound, TooManyRequests, Unauthenticated,
                                    invalid_field)

EU_COUNTRIES, COUNTRIES = countries.EU, countries.SUPPORTED
VAT_PREFIX = {"GR": "EL"}  # Greece files VAT under EL

COMMON_PASSWORDS = frozenset(FREQUENCY_LISTS["passwords"])
RECOVERY_CODES = 10
TOTP_WINDOW = 1  # accept the previous and the next 30-second step too: clocks drift


ZXCVBN_MAX = 72  # the estimator's limit: past it a password is long enough for any guesser


def normalise_email(email):
    """The stored and compared form (the schemas checked it already; an address that fails here is no account's)."""
    try:
        return canonical_email(email)
    except ValueError:
        return email.strip().lower()


# ---- VAT ids ----------------------------------------------------------------------------------------------

def check_vat_id(country, vat_id):
    """The VAT id in its compact form, or InvalidInput naming the rule it breaks. EU countries only: the
    VIES identifiers have a format and, for most states, a check digit that stdnum knows."""
    if vat_id is None:
        return None
    if country not in EU_COUNTRIES:
        raise invalid_field("VAT_ID_NOT_EU", "operator.vat_id", "eu_country",
                            f"An EU VAT id is only valid for a company in an EU member state, not {country}.")
    compact = "".join(ch for ch in vat_id.upper() if ch.isalnum())
    prefix = VAT_PREFIX.get(country, country)
    if not compact.startswith(prefix):
        raise invalid_field("VAT_ID_COUNTRY_MISMATCH", "operator.vat_id", "country_prefix",
                            f"A VAT id for {country} starts with {prefix}.")
    try:
        return eu_vat.validate(compact)
    except InvalidChecksum:
        raise invalid_field("INVALID_VAT_ID", "operator.vat_id", "checksum",
                            "The VAT id's check digits do not match; please check for a typing error.")
    except (InvalidFormat, InvalidLength, InvalidComponent, ValidationError):
        raise invalid_field("INVALID_VAT_ID", "operator.vat_id", "format",
                            f"This is not the format of a {prefix} VAT id.")


# ---- Passwords --------------------------------------------------------------------------------------------

def check_password(password, field="password", related=(), email=None):
    """Length, the list of common passwords, not the email address, and a strength estimate that knows the user's
    own details."""
    if len(password) < PASSWORD_MIN:
        raise invalid_field("WEAK_PASSWORD", field, "min_length",
                            f"Use at least {PASSWORD_MIN} characters.", min_length=PASSWORD_MIN)
    if len(password) > PASSWORD_MAX:
        raise invalid_field("WEAK_PASSWORD", field, "max_length",
                            f"Use at most {PASSWORD_MAX} characters.", max_length=PASSWORD_MAX)
    if password.lower() in COMMON_PASSWORDS:
        raise invalid_field("WEAK_PASSWORD", field, "common_password",
                            "This password is on the list of the most common passwords.")
    if email and (email.lower() in password.lower() or email.split("@")[0].lower() == password.lower()):
        raise invalid_field("WEAK_PASSWORD", field, "not_the_email",
                            "The password must not be or contain your email address.")
    inputs = [part for value in related if value for part in _words(value)]
    estimate = zxcvbn(password[:ZXCVBN_MAX], user_inputs=inputs)
    if estimate["score"] < 3:
        advice = estimate["feedback"]["warning"] or "Add more words or characters that are hard to guess."
        raise invalid_field("WEAK_PASSWORD", field, "guessable", f"This password is easy to guess. {advice}",
                            suggestions=estimate["feedback"]["suggestions"])


def _words(value):
    return [w for w in value.lower().replace("@", " ").replace(".", " ").split() if len(w) > 2]


class Passwords:
    """argon2id hashing; `verify_absent` spends the same time when there is no such account.

    `offload` runs the ~50 ms of hashing off the calling thread (the service passes eventlet's thread pool,
    so one login does not stall every other request of the process)."""

    def __init__(self, hasher=None, offload=None):
        self.hasher = hasher or PasswordHasher()
        self._offload = offload or (lambda fn, *args: fn(*args))
        self._decoy = self.hasher.hash(secrets.token_urlsafe(16))

    def hash(self, password):
        return self._offload(self.hasher.hash, password)

    def verify(self, password_hash, password):
        try:
            verified = self._offload(self.hasher.verify, password_hash or self._decoy, password)
            return verified and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    def verify_absent(self, password):
        self.verify(None, password)
        return False


# ---- TOTP ---------------------------------------------------------------------------------------------------

def new_totp_secret():
    return pyotp.random_base32()


def totp_uri(secret, email, issuer="AOS"):
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def qr_svg(uri):
    return segno.make(uri, error="m").svg_inline(scale=4, dark="#000", light="#fff")


def totp_step(secret, code, last_used_step, now):
    """The time step a code belongs to (±1 step), or None. A step at or before the last one used is a replay:
    returned negated so the caller can tell a reused code from a wrong one."""
    if not (isinstance(code, str) and len(code) == 6 and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - TOTP_WINDOW, current + TOTP_WINDOW + 1):
        if secrets.compare_digest(totp.generate_otp(step), code):
            return -step if step <= last_used_step else step
    return None


# ---- Recovery codes and opaque tokens ------------------------------------------------------------------------

def new_recovery_codes():
    """Ten single-use codes such as `7KQ4-M2XD-9PTA`, shown once; stored hashed."""
    alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    return ["-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(3))
            for _ in range(RECOVERY_CODES)]


def normalise_recovery_code(code):
    compact = "".join(ch for ch in code.upper() if ch.isalnum())
    return "-".join(compact[i:i + 4] for i in range(0, len(compact), 4))


def digest(secret):
    """Recovery codes, refresh and invitation tokens carry 60+ random bits: a fast hash suffices."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_opaque_token():
    return secrets.token_urlsafe(32)


# ---- Throttling ---------------------------------------------------------------------------------------------
# Guessing must not let an attacker lock the owner out. Attempts are counted per account at one address (a lock
# there), per address across accounts (a lock for spraying), and per account from anywhere (a slowdown, never a
# lock); a device the user completed a sign-in on before is counted on its own, apart from everyone else's
# failures. Each attempt takes its slot before the password is checked, so concurrent guesses get no more.

MAX_SLOWDOWN_SECONDS = 8.0


def throttle_keys(email, address, device_id=None):
    """(counter key, which limit applies: "account" or "address") for one sign-in attempt."""
    if device_id:
        return [(f"device:{device_id}", "account")]
    return [(f"pair:{email}|{address}", "account"), (f"address:{address}", "address")]


def account_key(email):
    return f"account:{email}"


def slowdown_seconds(failures, free):
    """How long an attempt from an unknown device waits once the account has had `failures` (more than `free`)
    from anywhere in the window: doubling from half a second, at most MAX_SLOWDOWN_SECONDS."""
    if failures <= free:
        return 0.0
    return min(MAX_SLOWDOWN_SECONDS, 0.5 * 2 ** (failures - free - 1))


def sign_in_wait(not_before, now):
    """Whole seconds an attempt from an unknown device must still wait while the account is slowed down (0: none).
    The attempt is answered at once (429 with Retry-After), never held: a held attempt would hold a worker."""
    if not_before is None or not_before <= now:
        return 0
    return max(1, math.ceil((not_before - now).total_seconds()))


def slowed_until(failures, free, now):
    """After the account's `failures`-th failure from anywhere, unknown devices wait until this instant (or None)."""
    wait = slowdown_seconds(failures, free)
    return now + timedelta(seconds=wait) if wait else None


def signs_in(user, enrolled):
    """Whether a right password opens the account: an active user whose address is confirmed or who has a second
    factor. A new workshop confirms its address from the mailed link first; until then its sign-in fails like a
    wrong password, so that registering tells nobody whether an address had an account already."""
    return user.active and (enrolled or user.email_verified_at is not None)


def same_browser(bound_hash, browser):
    """Whether the trust centre's answer came back to the browser that started the SERMI link."""
    return bool(bound_hash and browser) and secrets.compare_digest(bound_hash, digest(browser))


def retry_after(window_started_at, window_seconds, now):
    """Seconds until a full counter's window ends (at least 1)."""
    ends = window_started_at + timedelta(seconds=window_seconds)
    return max(1, math.ceil((ends - now).total_seconds()))


# ---- Roles --------------------------------------------------------------------------------------------------

def require_owner(actor_role, action):
    if actor_role != "owner":
        raise Forbidden("OWNER_ONLY", f"Only the workshop's owner may {action}.", {"required_role": "owner"})


def spending(user):
    """What a user may spend of the workshop's money: an owner anything; others what the owner granted."""
    if user.role == "owner":
        return {"may_buy": True, "on_invoice": True, "monthly_budget_cents": None}
    return {"may_buy": bool(user.may_buy), "on_invoice": bool(user.may_buy and user.may_pay_on_invoice),
            "monthly_budget_cents": user.monthly_budget_cents}


def require_user_manager(actor_role):
    if actor_role not in ("owner", "admin"):
        raise Forbidden("ROLE_NOT_ALLOWED", "Only an owner or admin may see the workshop's users.",
                        {"required_role": ["owner", "admin"]})


def require_factor_resetter(actor, target, amr):
    """Who may take a user's second factor away (the user enrols again at the next sign-in): an owner for anyone
    else, an admin for anyone but an owner, and a user for themselves when they signed in with a recovery code
    (an owner without another owner who lost the phone)."""
    if actor.id == target.id:
        if "rec" not in (amr or ()):
            raise Forbidden("RECOVERY_SIGN_IN_REQUIRED", "To reset your own second factor, sign in with one of "
                            "your recovery codes first.", {"rule": "signed_in_with_recovery_code"})
        return
    if actor.role == "owner" or (actor.role == "admin" and target.role != "owner"):
        return
    raise Forbidden("ROLE_NOT_ALLOWED", "Only the owner, or an admin for someone who is not an owner, may reset a "
                    "second factor.", {"required_role": ["owner", "admin"]})


def expires(now: datetime, seconds: int):
    return now + timedelta(seconds=seconds)


# ---- SERMI: security-related work by an authorised technician ---------------------------------------------------

SERMI_FRESH_SECONDS = 15 * 60  # a technician signed in at the trust centre this recently may do security work
SERMI_CHAIN_SECONDS = 24 * 3600  # a chain authorisation is honoured for a day after it was accepted
SERMI_LINK_SECONDS = 600  # the trust centre's answer to a sign-in AOS started: once, within 10 minutes


def compact_vat(vat_id):
    return "".join(ch for ch in (vat_id or "").upper() if ch.isalnum())


def sermi_refusal(claims, workshop_vat_id, now):
    """Why the trust centre's claims do not make this technician an authorised one of this workshop (Forbidden), or
    None. The claims: CABUID (the body), IOUID (the workshop: name, address, VAT id), IOEUID (the
    employee: country, body, authorisation id), and `chain` for a remote employee acting for one of the workshop's."""
    iouid, ioeuid = claims.get("iouid"), claims.get("ioeuid")
    if not claims.get("cabuid") or not isinstance(iouid, dict) or not isinstance(ioeuid, dict):
        return Forbidden("SERMI_CLAIMS_MISSING", "The trust centre's answer lacks the body, the workshop or the "
                         "employee.")
    if not all(ioeuid.get(k) for k in ("country", "body", "authorisation_id")):
        return Forbidden("SERMI_CLAIMS_MISSING", "The trust centre's answer lacks the employee's country, body or "
                         "authorisation.")
    if not workshop_vat_id:
        return Forbidden("SERMI_WORKSHOP_NO_VAT_ID", "Security-related work needs the workshop's VAT id in AOS (SERMI "
                         "names it).")
    if compact_vat(iouid.get("vat_id")) != compact_vat(workshop_vat_id):
        return Forbidden("SERMI_WORKSHOP_MISMATCH", f"This SERMI authorisation is for the workshop with VAT id "
                         f"{iouid.get('vat_id') or 'none'}, not for yours ({workshop_vat_id}).")
    if not isinstance(claims.get("auth_time"), int):
        return Forbidden("SERMI_AUTH_TIME_MISSING", "The trust centre did not say when the technician signed in.")
    chain = claims.get("chain")
    if chain is not None:
        try:
            accepted = datetime.fromisoformat(chain["accepted_at"])
        except (TypeError, KeyError, ValueError):
            return Forbidden("SERMI_CHAIN_INVALID", "The chain authorisation does not say when it was accepted.")
        if accepted.tzinfo is None or not timedelta(0) <= now - accepted <= timedelta(seconds=SERMI_CHAIN_SECONDS):
            return Forbidden("SERMI_CHAIN_EXPIRED", "A chain authorisation is honoured for 24 hours after it was "
                             "accepted.")
    return None


def sermi_link_usable(created_at, used_at, now):
    return used_at is None and now - created_at <= timedelta(seconds=SERMI_LINK_SECONDS)


def sermi_fresh(authenticated_at, now):
    return now - authenticated_at <= timedelta(seconds=SERMI_FRESH_SECONDS)


# ---- What identity refuses: each rule a use case asks, its condition and its words here ------------------------

LOGIN_FAILED = "Login failed"


def login_failed():
    """A sign-in that fails, whatever failed (no such account, a wrong password, an address not yet confirmed): the
    same words, so that a failure tells nothing of the account."""
    return Unauthenticated("LOGIN_FAILED", LOGIN_FAILED)


def login_throttled(wait):
    return TooManyRequests("LOGIN_THROTTLED", f"Too many failed attempts. Try again in {wait} seconds.",
                           {"retry_after_seconds": wait})


def sign_in_slowed(wait):
    return TooManyRequests("SIGN_IN_SLOWED", f"This account had failed sign-ins: from a device it has not signed "
                           f"in on, try again in {wait} seconds.", {"retry_after_seconds": wait})


def challenge_used():
    return Unauthenticated("CHALLENGE_USED", "This sign-in step was completed already; sign in again.",
                           {"field": "challenge", "rule": "single_use"})


def require_challenge_unspent(spent):
    if spent:
        raise challenge_used()


def ceremony_used():
    return Unauthenticated("CEREMONY_USED", "This passkey step was completed already: start adding a passkey again.",
                           {"field": "ceremony", "rule": "single_use"})


def require_own_ceremony(ceremony_user, user_id):
    if ceremony_user != user_id:
        raise Unauthenticated("CEREMONY_INVALID", "This passkey step belongs to another user.")


def require_ceremony_of_sign_in(ceremony, user_id, login):
    """A passkey's answer belongs to the sign-in (its password step's challenge) whose ceremony asked for it."""
    if ceremony["sub"] != user_id or ceremony.get("login") != login:
        raise Unauthenticated("CEREMONY_INVALID", "This passkey step belongs to another sign-in.")


def passkey_exists():
    return Conflict("PASSKEY_EXISTS", "This passkey is registered already.", {"field": "credential"})


def require_removed(count):
    if not count:
        raise NotFound("PASSKEY_NOT_FOUND", "You have no such passkey.", {"field": "passkey_id"})


def require_passkeys(keys):
    if not keys:
        raise Conflict("NO_PASSKEY", "This account has no passkey: use the code from your authenticator app.",
                       {"field": "challenge"})


def code_refused(step, field):
    """A TOTP code that did not pass: one of a step used before (`step` not None), or simply wrong."""
    if step is not None:
        return Unauthenticated("TOTP_CODE_REUSED", "This code has been used already; wait for the next one.",
                               {"field": field, "rule": "single_use"})
    return Unauthenticated("TOTP_CODE_WRONG", "The code is not right; check the time on your phone.",
                           {"field": field, "rule": "totp"})


def recovery_code_wrong():
    return Unauthenticated("RECOVERY_CODE_WRONG", "This recovery code is not valid or has been used.",
                           {"field": "recovery_code", "rule": "single_use"})


def password_wrong():
    return Unauthenticated("PASSWORD_WRONG", "The current password is not right.",
                           {"field": "current_password", "rule": "current_password"})


def require_vat_id_free(taken):
    if taken:
        raise Conflict("VAT_ID_TAKEN", "A workshop with this VAT id is registered already.",
                       {"field": "operator.vat_id"})


def require_email_free(taken):
    if taken:
        raise Conflict("EMAIL_TAKEN", "An account with this email address exists already.", {"field": "email"})


def require_active(user):
    if user is None or not user.active:
        raise Unauthenticated("USER_INACTIVE", "This account is not active.")


def require_same_workshop(user, operator_id):
    if user.operator_id != operator_id:
        raise Forbidden("OTHER_OPERATOR", "This belongs to another workshop.")


def require_user_of(user, operator_id):
    if user is None or user.operator_id != operator_id:
        raise NotFound("USER_NOT_FOUND", "There is no such user in your workshop.")


def require_changes(payload):
    if not payload:
        raise invalid_field("NOTHING_TO_CHANGE", "body", "min_properties", "Send `role`, `active`, `spending`.")


def demotes_owner(user, payload):
    """Whether a change takes an owner's ownership or activity away."""
    return user.role == "owner" and (payload.get("role", "owner") != "owner" or payload.get("active") is False)


def require_an_owner_left(demoting_owner, owners):
    if demoting_owner and owners <= 1:
        raise Conflict("LAST_OWNER", "A workshop needs an active owner; make someone else owner first.")


def require_not_enrolled(factor):
    if factor is not None and factor.confirmed_at is not None:
        raise Conflict("TOTP_ALREADY_ENROLLED", "A second factor is set up already for this account.")


def require_enrolment_started(factor):
    if factor is None:
        raise Conflict("TOTP_NOT_STARTED", "Start the enrolment first: POST /api/v1/auth/totp/enrol.")
    require_not_enrolled(factor)


def require_verification_link(user, now):
    if user is None or user.verification_expires_at <= now:
        raise NotFound("VERIFICATION_INVALID", "This link is not valid or has expired; ask for a new one on the "
                       "portal's start screen.", {"field": "token", "rule": "valid_link"})


def require_unverified(user):
    if user.email_verified_at is not None:
        raise Conflict("EMAIL_ALREADY_VERIFIED", "Your address is confirmed already.")


def require_reset_link(reset, user, now):
    """A reset link works once, within its life, for an active user."""
    if reset is None or reset.used_at is not None or reset.expires_at <= now or not user.active:
        raise NotFound("RESET_LINK_INVALID", "This link is not valid, was used, or has expired: ask for a new one.",
                       {"field": "token", "rule": "valid_link"})


def require_invitation(user, now):
    if user is None or not user.active or user.invitation_expires_at <= now:
        raise NotFound("INVITATION_INVALID", "This invitation is not valid or has expired; ask your workshop's "
                       "owner for a new one.")


def require_refresh_token(token, now):
    """A refresh token of a live session: not revoked, not expired."""
    if token is None or token.revoked_at is not None:
        raise Unauthenticated("REFRESH_TOKEN_INVALID", "This session has ended; please sign in again.")
    if token.expires_at <= now:
        raise Unauthenticated("REFRESH_TOKEN_EXPIRED", "This session has expired; please sign in again.")


def refresh_outcome(rotated, active):
    """After a refresh token was presented: None when it rotates; the refusal when it was spent before (a copy:
    the whole session ends) or its user is no longer active."""
    if not rotated:
        return Unauthenticated("REFRESH_TOKEN_REUSED", "This refresh token was used before; the session has been "
                               "ended for safety.")
    if not active:
        return Unauthenticated("USER_INACTIVE", "This account is not active.")
    return None


def sermi_not_offered():
    return NotFound("SERMI_NOT_OFFERED", "Security-related work is not offered here: no SERMI trust centre is "
                    "configured (AOS_SERMI_ISSUER).")


def require_sermi_link(link, now):
    if link is None or not sermi_link_usable(link.created_at, link.used_at, now):
        raise Unauthenticated("SERMI_STATE_INVALID", "This answer of the trust centre is not one AOS is waiting for "
                              "(unknown, used or older than 10 minutes): please link again.")


def sermi_answer_refusal(bound_hash, browser, error):
    """Why the trust centre's answer is not taken before its code is traded (None when it is): brought back to
    another browser than the one that started the link, or the trust centre signed nobody in."""
    if not same_browser(bound_hash, browser):
        return Forbidden("SERMI_OTHER_BROWSER", "This sign-in at the trust centre was started in another browser or "
                         "by another AOS user: start linking again from your own AOS sign-in.")
    if error:
        return Forbidden("SERMI_SIGN_IN_FAILED", f"The trust centre did not sign the technician in ({error}).")
    return None


def sermi_trust_centre_refused(error):
    """The trust centre's code or ID token did not check out (authlib's or joserfc's refusal, as Unauthenticated)."""
    return Forbidden(error.code, error.message)


def sermi_work_refusal(authorisation, still_authorised, now):
    """Why a technician may not do security-related work now (None when they may): not linked, a sign-in at the
    trust centre older than 15 minutes, or the trust centre no longer confirming them (`still_authorised()` asks
    it, only when the rest holds)."""
    if authorisation is None:
        return Forbidden("SERMI_NOT_LINKED", "Security-related work needs your SERMI authorisation: sign in at the "
                         "trust centre first.")
    if not sermi_fresh(authorisation.authenticated_at, now):
        return Forbidden("SERMI_LOGIN_STALE", "Your sign-in at the trust centre is older than 15 minutes: sign in "
                         "there again.")
    if not still_authorised():
        return Forbidden("SERMI_REVOKED", "The trust centre no longer confirms your SERMI authorisation.")
    return None

