"""What identity does, step by step: each function takes its collaborators explicitly (the store, the password
hasher, the token signer, the policy, the time) and applies the rules of domain.py inside one unit of work."""
import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from sqlalchemy import bindparam, case, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from services.identity import domain, mails, passkeys
from services.identity.models import (Device, Operator, Passkey, PasswordReset, RecoveryCode, RefreshToken,
                                      Revocation, SermiAuthorisation, SermiLink, SpentChallenge, ThrottleCounter,
                                      TotpFactor, User)
from services.identity import metrics
from services.shared.database import insert_if_absent, new_id
from services.shared.errors import Unauthenticated

@dataclass(frozen=True)
class Policy:
    access_ttl: int
    refresh_ttl: int
    login_window: int
    max_account_failures: int
    max_address_failures: int
    invitation_ttl: int = 7 * 86400
    challenge_ttl: int = 300
    verification_ttl: int = 48 * 3600
    reset_ttl: int = 30 * 60
    reset_mail_seconds: int = 300


@dataclass
class Context:
    store: object
    passwords: domain.Passwords
    signer: object
    policy: Policy
    now: datetime
    mailer: object = None  # services.shared.mail.SmtpMailer
    portal_url: str = "http://127.0.0.1:8000"
    trust_centre: object = None  # services.identity.sermi.TrustCentre, when SERMI is configured

    def link(self, route, token):
        """Where a mailed link leads: the portal's screen for it."""
        return f"{self.portal_url.rstrip('/')}/#/{route}?token={token}"

    def mail(self, uow, kind, user, country, link=None, **values):
        """A mail of `kind` to `user`, sent once `uow` has committed."""
        if self.mailer is not None:
            self.mailer.send_later(uow, mails.mail(kind, user.email, country, link, name=user.name, **values))


# ---- registration -------------------------------------------------------------------------------------------

def register_operator(ctx, payload):
    """A workshop and its owner, whose address is confirmed from a mailed link before the first sign-in. The
    answer is the same whether or not the address had an account (its owner is mailed instead, and nothing is
    registered), and a VAT id registered already is refused whatever the address: registering tells nobody who
    has an account here. Mails go after the answer."""
    op_in, owner_in = payload["operator"], payload["owner"]
    email = domain.normalise_email(owner_in["email"])
    vat_id = domain.check_vat_id(op_in["country"], op_in["vat_id"])
    domain.check_password(owner_in["password"], "owner.password",
                          related=(email, owner_in["name"], op_in["legal_name"]), email=email)
    password_hash = ctx.passwords.hash(owner_in["password"])  # for a taken address too: the same time either way
    with ctx.store.transaction() as uow:
        s = uow.session
        domain.require_vat_id_free(vat_id and s.scalar(select(Operator.id).where(Operator.vat_id == vat_id)))
        holder = s.scalar(select(User).where(User.email == email))
        if holder is not None:
            ctx.mail(uow, "registered_again", holder, s.get(Operator, holder.operator_id).country,
                     f"{ctx.portal_url.rstrip('/')}/#/login")
            return _registered(email)
        operator = Operator(id=new_id(), legal_name=op_in["legal_name"], legal_form=op_in["legal_form"],
                            kind=op_in.get("kind", "workshop"), country=op_in["country"], vat_id=vat_id, street=op_in["address"]["street"],
                            postal_code=op_in["address"]["postal_code"], city=op_in["address"]["city"],
                            registered_at=ctx.now)
        owner = User(id=new_id(), operator=operator, email=email, name=owner_in["name"], role="owner",
                     active=True, password_hash=password_hash, created_at=ctx.now, joined_at=ctx.now)
        s.add_all([operator, owner])
        s.flush()
        _ask_to_verify(ctx, uow, owner, operator.country)
        uow.emit("OperatorRegistered", {"operator_id": operator.id, "legal_name": operator.legal_name,
                                        "legal_form": operator.legal_form, "kind": operator.kind,
                                        "country": operator.country,
                                        "vat_id": vat_id, "address": op_in["address"], "contact_email": email,
                                        "registered_at": ctx.now}, subject=operator.id)
        _emit_joined(uow, owner, ctx.now)
    return _registered(email)


def _registered(email):
    return {"sent": True, "sent_to": email, "message": "We have sent a mail to this address. Open its link to "
            "confirm the address, then sign in to set up your second factor."}


def _emit_joined(uow, user, now):
    uow.emit("UserJoined", {"operator_id": user.operator_id, "user_id": user.id, "email": user.email,
                            "role": user.role, "joined_at": now}, subject=user.id)


# ---- login ----------------------------------------------------------------------------------------------------

def login(ctx, payload, address):
    """Password first. Unknown email and wrong password fail alike, in the same time, and both count."""
    email = domain.normalise_email(payload["email"])
    with ctx.store.read() as s:
        user = s.scalar(select(User).where(User.email == email))
        confirmed = user is not None and user.factor is not None and user.factor.confirmed_at is not None
    device = _known_device(ctx, payload.get("device_token"), user)
    if device is None:  # failures elsewhere slow unknown devices down (answered at once); they lock nobody out
        _slowed_down(ctx, email)
    keys = domain.throttle_keys(email, address, device)
    _take(ctx, keys)
    if user is None:
        ctx.passwords.verify_absent(payload["password"])
        _fail(ctx, email)
    if not ctx.passwords.verify(user.password_hash, payload["password"]) or not domain.signs_in(user, confirmed):
        _fail(ctx, email)
    _passed(ctx, keys, email)
    if not confirmed:
        return {"next": "enrol", "enrolment_token": _enrolment_token(ctx, user), "expires_in": ctx.policy.access_ttl}
    with ctx.store.read() as s:
        has_passkey = s.scalar(select(Passkey.id).where(Passkey.user_id == user.id).limit(1)) is not None
    return {"next": "totp", "challenge": ctx.signer.challenge(user.id, ctx.policy.challenge_ttl, ctx.now),
            "expires_in": ctx.policy.challenge_ttl,
            "factors": ["totp", "recovery_code"] + (["passkey"] if has_passkey else [])}


def second_factor(ctx, payload, address):
    claims = ctx.signer.read_challenge(payload["challenge"])
    with ctx.store.read() as s:
        domain.require_challenge_unspent(s.get(SpentChallenge, _challenge_id(claims)) is not None)
        user = s.get(User, claims["sub"])
        email = user.email if user else ""
    device = _known_device(ctx, payload.get("device_token"), user)
    keys = domain.throttle_keys(email, address, device)
    _take(ctx, keys)
    if user is None or not user.active:
        _fail(ctx, email)
    if payload["code"] is not None:
        _use_totp_code(ctx, user, payload["code"], field="code")
        amr = ["pwd", "otp"]
    else:
        _use_recovery_code(ctx, user, payload["recovery_code"])
        amr = ["pwd", "rec"]
    _passed(ctx, keys, email)
    _spend(ctx, claims)
    return _start_session(ctx, user, amr) | {"device_token": _device(ctx, user, device, address)}


# ---- passkeys ---------------------------------------------------------------------------------------------------

def passkey_options(ctx, user_id):
    """What the browser needs to make a passkey for this user (a ceremony of 5 minutes)."""
    with ctx.store.read() as s:
        user = _active_user(s, user_id)
        existing = s.scalars(select(Passkey.id).where(Passkey.user_id == user.id)).all()
    challenge = passkeys.new_challenge()
    return {"options": passkeys.creation_options(ctx.portal_url, user, challenge, existing),
            "ceremony": ctx.signer.ceremony(user.id, "register", passkeys.encode(challenge), now=ctx.now)}


def add_passkey(ctx, user_id, payload):
    claims = ctx.signer.read_ceremony(payload["ceremony"], "register")
    domain.require_own_ceremony(claims["sub"], user_id)
    key_id, public_key, sign_count = passkeys.registered(ctx.portal_url, passkeys.decode(claims["chal"]),
                                                         payload["credential"])
    _spend_ceremony(ctx, claims)
    try:
        with ctx.store.transaction() as uow:
            _active_user(uow.session, user_id)
            key = Passkey(id=key_id, user_id=user_id, name=payload["name"], public_key=public_key,
                          sign_count=sign_count, created_at=ctx.now)
            uow.session.add(key)
    except IntegrityError:
        raise domain.passkey_exists()
    return _passkey_view(key)


def list_passkeys(ctx, user_id):
    with ctx.store.read() as s:
        return {"passkeys": [_passkey_view(k) for k in s.scalars(
            select(Passkey).where(Passkey.user_id == user_id).order_by(Passkey.created_at)).all()]}


def remove_passkey(ctx, user_id, passkey_id):
    with ctx.store.transaction() as uow:
        removed = uow.session.execute(delete(Passkey).where(Passkey.id == passkey_id, Passkey.user_id == user_id))
        domain.require_removed(removed.rowcount)
    return {"removed": True}


def _passkey_view(key):
    return {"id": key.id, "name": key.name, "created_at": key.created_at, "last_used_at": key.last_used_at}


def passkey_sign_in_options(ctx, payload):
    """The second step of a sign-in with a passkey: the challenge for the user's keys."""
    claims = ctx.signer.read_challenge(payload["challenge"])
    with ctx.store.read() as s:
        domain.require_challenge_unspent(s.get(SpentChallenge, _challenge_id(claims)) is not None)
        keys = s.scalars(select(Passkey.id).where(Passkey.user_id == claims["sub"])).all()
    domain.require_passkeys(keys)
    challenge = passkeys.new_challenge()
    return {"options": passkeys.request_options(ctx.portal_url, challenge, keys),
            "ceremony": ctx.signer.ceremony(claims["sub"], "sign_in", passkeys.encode(challenge), now=ctx.now,
                                            login=_challenge_id(claims))}


def passkey_sign_in(ctx, payload, address):
    claims = ctx.signer.read_challenge(payload["challenge"])
    ceremony = ctx.signer.read_ceremony(payload["ceremony"], "sign_in")
    domain.require_ceremony_of_sign_in(ceremony, claims["sub"], _challenge_id(claims))
    with ctx.store.read() as s:
        domain.require_challenge_unspent(s.get(SpentChallenge, _challenge_id(claims)) is not None)
        user = s.get(User, claims["sub"])
        key = s.get(Passkey, passkeys.credential_id(payload["credential"]))
    email = user.email if user else ""
    device = _known_device(ctx, payload.get("device_token"), user)
    keys = domain.throttle_keys(email, address, device)
    _take(ctx, keys)
    if user is None or not user.active or key is None or key.user_id != user.id:
        _fail(ctx, email)
    try:
        count = passkeys.asserted(ctx.portal_url, passkeys.decode(ceremony["chal"]), payload["credential"],
                                  key.public_key, key.sign_count)
    except Unauthenticated:
        _count_failure(ctx, email)
        raise
    with ctx.store.transaction() as uow:
        uow.session.execute(update(Passkey).where(Passkey.id == key.id).values(sign_count=count, last_used_at=ctx.now))
    _passed(ctx, keys, email)
    _spend(ctx, claims)
    return _start_session(ctx, user, ["pwd", "hwk"]) | {"device_token": _device(ctx, user, device, address)}


def _spend(ctx, claims):
    """A challenge that led to a sign-in works once (a request racing with it loses)."""
    try:
        with ctx.store.transaction() as uow:
            uow.session.add(SpentChallenge(id=_challenge_id(claims), spent_at=ctx.now))
    except IntegrityError:
        raise domain.challenge_used()


def _spend_ceremony(ctx, claims):
    """A passkey registration ceremony works once: its challenge is spent by the first credential it makes."""
    try:
        with ctx.store.transaction() as uow:
            uow.session.add(SpentChallenge(id=domain.digest(f"ceremony:{claims['chal']}")[:36], spent_at=ctx.now))
    except IntegrityError:
        raise domain.ceremony_used()


def _challenge_id(claims):
    return claims.get("jti") or domain.digest(f"{claims['sub']}:{claims['iat']}")[:36]


def _known_device(ctx, token, user):
    """The device id of a valid device token for this user, else None."""
    claims = ctx.signer.read_device(token)
    if claims is None or user is None or claims["sub"] != user.id:
        return None
    with ctx.store.read() as s:
        found = s.get(Device, claims["did"])
        return found.id if found is not None and found.user_id == user.id else None


def _device(ctx, user, device_id, address=None):
    """The device token to keep: this device's, known from now on. A sign-in from a device not seen before is
    told to the user by mail (`address`: where it came from; none at the very first sign-in, the enrolment)."""
    with ctx.store.transaction() as uow:
        if device_id is None:
            device_id = new_id()
            uow.session.add(Device(id=device_id, user_id=user.id, first_seen_at=ctx.now, last_seen_at=ctx.now))
            if address is not None:
                ctx.mail(uow, "new_sign_in", user, uow.session.get(Operator, user.operator_id).country,
                         when=ctx.now.strftime("%Y-%m-%d %H:%M"), address=address)
        else:
            uow.session.execute(update(Device).where(Device.id == device_id).values(last_seen_at=ctx.now))
    return ctx.signer.device_token(user.id, device_id, ctx.now)


def _use_totp_code(ctx, user, code, field):
    with ctx.store.transaction() as uow:
        factor = uow.session.get(TotpFactor, user.id)
        step = domain.totp_step(factor.secret, code, factor.last_used_step, ctx.now) if factor else None
        if step is not None and step > 0:
            # Compare-and-set: two requests racing with the same code cannot both pass.
            moved = uow.session.execute(update(TotpFactor).where(
                TotpFactor.user_id == user.id, TotpFactor.last_used_step < step).values(last_used_step=step))
            if moved.rowcount == 1:
                return factor
            step = -step
    _count_failure(ctx, user.email)
    raise domain.code_refused(step, field)


def _use_recovery_code(ctx, user, code):
    code_hash = domain.digest(domain.normalise_recovery_code(code))
    with ctx.store.transaction() as uow:
        used = uow.session.execute(update(RecoveryCode).where(
            RecoveryCode.user_id == user.id, RecoveryCode.code_hash == code_hash,
            RecoveryCode.used_at.is_(None)).values(used_at=ctx.now))
        if used.rowcount == 1:
            return
    _count_failure(ctx, user.email)
    raise domain.recovery_code_wrong()


def _start_session(ctx, user, amr):
    family = new_id()
    with ctx.store.transaction() as uow:
        refresh = _new_refresh_token(uow.session, user.id, family, auth_time=ctx.now, ctx=ctx)
        uow.emit("SignedIn", {"operator_id": user.operator_id, "user_id": user.id, "session_id": family, "amr": amr,
                              "signed_in_at": ctx.now}, subject=user.id)
    return _tokens(ctx, user, family, amr, ctx.now, refresh)


def _tokens(ctx, user, family, amr, auth_time, refresh):
    return {"access_token": ctx.signer.access_token(user, "api", family, amr, auth_time, ctx.now, extra={
                "buy": domain.spending(user), "ev": user.email_verified_at is not None}),
            "token_type": "Bearer", "expires_in": ctx.policy.access_ttl, "refresh_token": refresh}


def _new_refresh_token(session, user_id, family, auth_time, ctx):
    secret = domain.new_opaque_token()
    session.add(RefreshToken(id=new_id(), family_id=family, user_id=user_id, token_hash=domain.digest(secret),
                             auth_time=auth_time, created_at=ctx.now,
                             expires_at=domain.expires(ctx.now, ctx.policy.refresh_ttl)))
    return secret


def _enrolment_token(ctx, user):
    return ctx.signer.access_token(user, "enrol", None, ["pwd"], ctx.now, ctx.now)


# ---- throttling (the rules: domain.throttle_keys) --------------------------------------------------------------

def _limit(ctx, kind):
    return ctx.policy.max_account_failures if kind == "account" else ctx.policy.max_address_failures


def _take(ctx, keys):
    """One attempt on each counter, all or none, before anything is checked: 429 when one is full."""
    window = ctx.policy.login_window
    fresh = ThrottleCounter.window_started_at <= ctx.now - timedelta(seconds=window)
    wait = 0
    with ctx.store.transaction() as uow:
        s = uow.session
        for key, kind in keys:
            insert_if_absent(s, ThrottleCounter, key=key, window_started_at=ctx.now, attempts=0)
            taken = s.execute(update(ThrottleCounter).where(
                ThrottleCounter.key == key, or_(fresh, ThrottleCounter.attempts < _limit(ctx, kind))).values(
                attempts=case((fresh, 1), else_=ThrottleCounter.attempts + 1),
                window_started_at=case((fresh, ctx.now), else_=ThrottleCounter.window_started_at))).rowcount
            if not taken:
                wait = domain.retry_after(s.get(ThrottleCounter, key).window_started_at, window, ctx.now)
                break
        if wait:
            s.rollback()  # the other counters give their attempt back
    if wait:
        metrics.LOGIN_THROTTLED.inc()
        raise domain.login_throttled(wait)


def _passed(ctx, keys, email):
    """A right password or code: its own counters start over, and the address has its attempt back."""
    with ctx.store.transaction() as uow:
        for key, kind in keys + [(domain.account_key(email), "account")]:
            attempts = 0 if kind == "account" else case((ThrottleCounter.attempts > 0, ThrottleCounter.attempts - 1),
                                                        else_=0)
            uow.session.execute(update(ThrottleCounter).where(ThrottleCounter.key == key).values(attempts=attempts))


def _count_failure(ctx, email):
    """A failure of the account from anywhere: slows unknown devices down, locks nobody out."""
    window = ctx.policy.login_window
    fresh = ThrottleCounter.window_started_at <= ctx.now - timedelta(seconds=window)
    key = domain.account_key(email)
    with ctx.store.transaction() as uow:
        insert_if_absent(uow.session, ThrottleCounter, key=key, window_started_at=ctx.now, attempts=0)
        uow.session.execute(update(ThrottleCounter).where(ThrottleCounter.key == key).values(
            attempts=case((fresh, 1), else_=ThrottleCounter.attempts + 1),
            window_started_at=case((fresh, ctx.now), else_=ThrottleCounter.window_started_at)))
        counter = uow.session.get(ThrottleCounter, key)
        counter.not_before = domain.slowed_until(counter.attempts, ctx.policy.max_account_failures, ctx.now)
        account = uow.session.scalar(select(User).where(User.email == email)) if email else None
        uow.emit("SignInFailed", {"operator_id": account.operator_id if account else None,
                                  "user_id": account.id if account else None, "email": email[:254],
                                  "failed_at": ctx.now}, subject=account.id if account else None)
    metrics.LOGIN_FAILURES.inc()


def _slowed_down(ctx, email):
    """429 for an attempt from an unknown device while the account's slowdown holds: answered now, holding no
    worker (a sleeping attempt held one, and ten of them held identity)."""
    with ctx.store.read() as s:
        found = s.get(ThrottleCounter, domain.account_key(email))
        wait = domain.sign_in_wait(found.not_before if found else None, ctx.now)
    if wait:
        metrics.LOGIN_THROTTLED.inc()
        raise domain.sign_in_slowed(wait)


def forget_old_attempts(ctx):
    """Counters whose window ended and challenges past their life say nothing any more."""
    with ctx.store.transaction() as uow:
        uow.session.execute(delete(ThrottleCounter).where(
            ThrottleCounter.window_started_at <= ctx.now - timedelta(seconds=ctx.policy.login_window)))
        uow.session.execute(delete(SpentChallenge).where(
            SpentChallenge.spent_at <= ctx.now - timedelta(seconds=ctx.policy.challenge_ttl)))


def _fail(ctx, email):
    _count_failure(ctx, email)
    raise domain.login_failed()


# ---- TOTP enrolment -------------------------------------------------------------------------------------------

def start_enrolment(ctx, user_id):
    with ctx.store.transaction() as uow:
        user = _active_user(uow.session, user_id)
        factor = uow.session.get(TotpFactor, user.id)
        domain.require_not_enrolled(factor)
        secret = domain.new_totp_secret()
        if factor is None:
            uow.session.add(TotpFactor(user_id=user.id, secret=secret, created_at=ctx.now, last_used_step=0))
        else:  # an unconfirmed enrolment started over: the new secret replaces the old one
            factor.secret, factor.created_at = secret, ctx.now
        uri = domain.totp_uri(secret, user.email)
    return {"secret": secret, "otpauth_uri": uri, "qr_svg": domain.qr_svg(uri)}


def confirm_enrolment(ctx, user_id, payload, address):
    with ctx.store.read() as s:
        user = _active_user(s, user_id)
        factor = s.get(TotpFactor, user.id)
    domain.require_enrolment_started(factor)
    keys = domain.throttle_keys(user.email, address)[:1]  # the account here: a busy address blocks no enrolment
    _take(ctx, keys)
    _use_totp_code(ctx, user, payload["code"], field="code")
    _passed(ctx, keys, user.email)
    codes = domain.new_recovery_codes()
    with ctx.store.transaction() as uow:
        uow.session.execute(update(TotpFactor).where(TotpFactor.user_id == user.id).values(confirmed_at=ctx.now))
        uow.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
        uow.session.add_all(RecoveryCode(id=new_id(), user_id=user.id, code_hash=domain.digest(code)) for code in codes)
    return {**_start_session(ctx, user, ["pwd", "otp"]), "recovery_codes": codes,
            "device_token": _device(ctx, user, _known_device(ctx, payload.get("device_token"), user))}


# ---- the address, and passwords forgotten or changed -------------------------------------------------------------

def _ask_to_verify(ctx, uow, user, country):
    token = domain.new_opaque_token()
    user.verification_hash = domain.digest(token)
    user.verification_expires_at = domain.expires(ctx.now, ctx.policy.verification_ttl)
    ctx.mail(uow, "verify", user, country, ctx.link("verify-email", token))


def verify_email(ctx, payload):
    """The link from the mail: the address is the user's."""
    with ctx.store.transaction() as uow:
        user = uow.session.scalar(select(User).where(User.verification_hash == domain.digest(payload["token"])))
        domain.require_verification_link(user, ctx.now)
        user.email_verified_at, user.verification_hash, user.verification_expires_at = ctx.now, None, None
        return {"email": user.email, "verified": True}


def resend_verification(ctx, user_id):
    with ctx.store.transaction() as uow:
        user = _active_user(uow.session, user_id)
        domain.require_unverified(user)
        _ask_to_verify(ctx, uow, user, uow.session.get(Operator, user.operator_id).country)
    return {"sent_to": user.email}


def forgot_password(ctx, payload, address):
    """A reset link by mail, if there is such an account: the answer and its time are the same either way (nobody
    learns who has an account here; the mail goes after the answer). Asking is throttled for the account at this
    address and for the address, so an attacker's asking from theirs does not stop the owner asking from theirs,
    and the account gets one mail per `reset_mail_seconds` whoever asks; a new link ends every earlier one."""
    email = domain.normalise_email(payload["email"])
    _take(ctx, [(f"forgot:{email}|{address}", "account"), (f"address:{address}", "address")])
    token = domain.new_opaque_token()
    with ctx.store.transaction() as uow:
        user = uow.session.scalar(select(User).where(User.email == email))
        if user is not None and user.active and user.password_hash is not None and _mail_due(ctx, uow, user):
            _end_reset_links(uow.session, user.id, ctx.now)
            uow.session.add(PasswordReset(id=new_id(), user_id=user.id, token_hash=domain.digest(token),
                                          expires_at=domain.expires(ctx.now, ctx.policy.reset_ttl)))
            ctx.mail(uow, "password_reset", user, uow.session.get(Operator, user.operator_id).country,
                     ctx.link("reset-password", token))
    return {"sent": True, "message": "If an account has this address, a link to reset its password is on its way."}


def _mail_due(ctx, uow, user):
    """One reset mail per account within the policy's `reset_mail_seconds`: taken by a conditional update, so
    racing asks send one."""
    key = f"reset-mail:{user.id}"
    insert_if_absent(uow.session, ThrottleCounter, key=key, window_started_at=ctx.now, attempts=0)
    return uow.session.execute(update(ThrottleCounter).where(ThrottleCounter.key == key, or_(
        ThrottleCounter.attempts == 0,
        ThrottleCounter.window_started_at <= ctx.now - timedelta(seconds=ctx.policy.reset_mail_seconds)))
        .values(attempts=1, window_started_at=ctx.now)).rowcount == 1


def _end_reset_links(session, user_id, now):
    """Every outstanding reset link of the user stops working (a new one asked, one used, the password changed)."""
    session.execute(update(PasswordReset).where(PasswordReset.user_id == user_id, PasswordReset.used_at.is_(None))
                    .values(used_at=now))


def reset_password(ctx, payload):
    """The mailed link, once, within 30 minutes: a new password, and every session signed out. The second factor
    is still asked for at the next sign-in."""
    with ctx.store.transaction() as uow:
        s = uow.session
        reset = s.scalar(select(PasswordReset).where(PasswordReset.token_hash == domain.digest(payload["token"]))
                         .with_for_update())
        user = s.get(User, reset.user_id) if reset is not None else None
        domain.require_reset_link(reset, user, ctx.now)
        domain.check_password(payload["password"], "password", related=(user.email, user.name), email=user.email)
        reset.used_at = ctx.now
        _new_password(ctx, uow, user, payload["password"], "password_reset")
        user.email_verified_at = user.email_verified_at or ctx.now  # the link came to this address
    return {"reset": True}


def change_password(ctx, user_id, payload, address):
    """With the current password and the second factor: a new password; every session ends, this one gets new
    tokens."""
    with ctx.store.read() as s:
        user = _active_user(s, user_id)
    keys = domain.throttle_keys(user.email, address)[:1]
    _take(ctx, keys)
    if not ctx.passwords.verify(user.password_hash, payload["current_password"]):
        _count_failure(ctx, user.email)
        raise domain.password_wrong()
    if payload.get("code"):
        _use_totp_code(ctx, user, payload["code"], field="code")
    else:
        _use_recovery_code(ctx, user, payload["recovery_code"])
    _passed(ctx, keys, user.email)
    domain.check_password(payload["new_password"], "new_password", related=(user.email, user.name), email=user.email)
    with ctx.store.transaction() as uow:
        _new_password(ctx, uow, uow.session.get(User, user.id), payload["new_password"], "password_changed")
    after = dataclasses.replace(ctx, now=ctx.now + timedelta(milliseconds=1))  # past the revocation's instant
    return _start_session(after, user, ["pwd", "otp"])


def _new_password(ctx, uow, user, password, reason):
    user.password_hash = ctx.passwords.hash(password)
    _end_reset_links(uow.session, user.id, ctx.now)
    _revoke(uow.session, ctx.now, RefreshToken.user_id == user.id)
    revoke_tokens(uow, user, reason, ctx.now)


# ---- refresh and logout ---------------------------------------------------------------------------------------

def refresh(ctx, payload):
    """Rotate: the presented token is spent and a new one of the same family returned. Presenting a spent one
    again means it was copied, so the whole family (the login session) is revoked."""
    with ctx.store.transaction() as uow:
        s = uow.session
        current = s.scalar(select(RefreshToken).where(RefreshToken.token_hash == domain.digest(payload["refresh_token"])))
        domain.require_refresh_token(current, ctx.now)
        user = s.get(User, current.user_id)
        rotated = s.execute(update(RefreshToken).where(
            RefreshToken.id == current.id, RefreshToken.rotated_at.is_(None)).values(rotated_at=ctx.now)).rowcount == 1
        if rotated and user.active:
            secret = _new_refresh_token(s, user.id, current.family_id, current.auth_time, ctx)
        else:
            _revoke(s, ctx.now, RefreshToken.family_id == current.family_id)
    refused = domain.refresh_outcome(rotated, user.active)
    if refused:
        raise refused
    return _tokens(ctx, user, current.family_id, ["pwd", "otp"], current.auth_time, secret)


def logout(ctx, user_id, session_id, payload):
    """Ends the caller's login session: every refresh token of its family, and its access tokens."""
    with ctx.store.transaction() as uow:
        families = [session_id]
        if payload.get("refresh_token"):
            families.append(uow.session.scalar(select(RefreshToken.family_id).where(
                RefreshToken.token_hash == domain.digest(payload["refresh_token"]),
                RefreshToken.user_id == user_id)))
        _revoke(uow.session, ctx.now, RefreshToken.family_id.in_(families), RefreshToken.user_id == user_id)
        user = uow.session.get(User, user_id)
        for family in {f for f in families if f}:
            revoke_tokens(uow, user, "signed_out", ctx.now, session_id=family)
    return {"logged_out": True}


def _revoke(session, now, *conditions):
    session.execute(update(RefreshToken).where(*conditions, RefreshToken.revoked_at.is_(None)).values(revoked_at=now))


def revoke_tokens(uow, user, reason, now, session_id=None):
    """From now on the user's access tokens (or one session's) are refused everywhere: recorded, and announced
    to the gateways (TokensRevoked) in the same transaction."""
    uow.session.add(Revocation(id=new_id(), operator_id=user.operator_id, user_id=user.id, session_id=session_id,
                               reason=reason, revoked_at=now))
    uow.emit("TokensRevoked", {"operator_id": user.operator_id, "user_id": user.id, "session_id": session_id,
                               "reason": reason, "revoked_at": now}, subject=user.id)


def revocations(ctx, since):
    """The revocations since `since`: what a gateway that starts must know (older tokens have expired)."""
    with ctx.store.read() as s:
        rows = s.scalars(select(Revocation).where(Revocation.revoked_at >= since)
                         .order_by(Revocation.revoked_at)).all()
        return {"revocations": [{"user_id": r.user_id, "session_id": r.session_id, "reason": r.reason,
                                 "revoked_at": r.revoked_at} for r in rows]}


# ---- who am I, and the workshop's users -------------------------------------------------------------------------

OPERATOR_COLUMNS = [c for c in Operator.__table__.c if c.key != "id"]
# /me is on every client's start-up path: one statement, built once, read as plain rows on the session's connection
# (loading the user, its workshop and its factor as ORM objects made /me 0.40 ms in process on SQLite; this, 0.14)
ME = (select(User.__table__, *(c.label(f"operator_{c.key}") for c in OPERATOR_COLUMNS),
             TotpFactor.confirmed_at.label("factor_confirmed_at"))
      .join(Operator.__table__, Operator.id == User.operator_id)
      .outerjoin(TotpFactor.__table__, TotpFactor.user_id == User.id)
      .where(User.id == bindparam("user_id")))


def me(ctx, user_id):
    with ctx.store.read() as s:
        row = s.connection().execute(ME, {"user_id": user_id}).one_or_none()  # Core, past the ORM's loading
    domain.require_active(row)
    found = row._mapping  # the user's columns by their names, the workshop's and the factor's with a prefix
    confirmed = found["factor_confirmed_at"]
    user = SimpleNamespace(**{c.key: found[c.key] for c in User.__table__.c},
                           factor=None if confirmed is None else SimpleNamespace(confirmed_at=confirmed))
    operator = SimpleNamespace(id=user.operator_id, **{c.key: found[f"operator_{c.key}"] for c in OPERATOR_COLUMNS})
    return {"user": user_view(user), "operator": operator_view(operator), "roles": [user.role]}


def list_users(ctx, actor, operator_id):
    with ctx.store.read() as s:
        actor_user = _actor(s, actor, operator_id)
        domain.require_user_manager(actor_user.role)
        users = s.scalars(select(User).where(User.operator_id == operator_id).order_by(User.created_at)).all()
        return {"users": [user_view(u) for u in users]}


def invite_user(ctx, actor, operator_id, payload):
    email = domain.normalise_email(payload["email"])
    token = domain.new_opaque_token()
    with ctx.store.transaction() as uow:
        s = uow.session
        domain.require_owner(_actor(s, actor, operator_id).role, "invite users")
        domain.require_email_free(s.scalar(select(User.id).where(User.email == email)))
        inviter = _actor(s, actor, operator_id)
        user = User(id=new_id(), operator_id=operator_id, email=email, name=payload["name"], role=payload["role"],
                    active=True, password_hash=None, invitation_hash=domain.digest(token),
                    invitation_expires_at=domain.expires(ctx.now, ctx.policy.invitation_ttl), created_at=ctx.now)
        s.add(user)
        s.flush()
        workshop = s.get(Operator, operator_id)
        ctx.mail(uow, "invitation", user, workshop.country, ctx.link("invitation", token), inviter=inviter.name,
                 workshop=workshop.legal_name, role=user.role)
        return {"user": user_view(user), "invitation_token": token, "expires_at": user.invitation_expires_at}


def accept_invitation(ctx, payload):
    with ctx.store.transaction() as uow:
        s = uow.session
        user = s.scalar(select(User).where(User.invitation_hash == domain.digest(payload["token"])))
        domain.require_invitation(user, ctx.now)
        domain.check_password(payload["password"], "password", related=(user.email, user.name), email=user.email)
        user.password_hash = ctx.passwords.hash(payload["password"])
        user.invitation_hash, user.invitation_expires_at, user.joined_at = None, None, ctx.now
        user.email_verified_at = ctx.now  # the invitation went to this address
        _emit_joined(uow, user, ctx.now)
        return {"user": user_view(user), "enrolment_token": _enrolment_token(ctx, user)}


def reset_second_factor(ctx, actor, operator_id, user_id):
    """The user's TOTP, recovery codes and passkeys are gone and every session ends: at the next sign-in (password
    first) they enrol a factor again."""
    with ctx.store.transaction() as uow:
        s = uow.session
        resetter = _actor(s, actor, operator_id)
        user = s.get(User, user_id)
        domain.require_user_of(user, operator_id)
        domain.require_factor_resetter(resetter, user, actor.get("amr"))
        for model in (TotpFactor, RecoveryCode, Passkey):
            s.execute(delete(model).where(model.user_id == user.id))
        _revoke(s, ctx.now, RefreshToken.user_id == user.id)
        revoke_tokens(uow, user, "factor_reset", ctx.now)
        s.flush()
        s.refresh(user)
        return user_view(user)


def change_user(ctx, actor, operator_id, user_id, payload):
    domain.require_changes(payload)
    with ctx.store.transaction() as uow:
        s = uow.session
        domain.require_owner(_actor(s, actor, operator_id).role, "change users")
        user = s.get(User, user_id)
        domain.require_user_of(user, operator_id)
        demoting_owner = domain.demotes_owner(user, payload)
        domain.require_an_owner_left(demoting_owner, demoting_owner and _owners(s, operator_id))
        if payload.get("role", user.role) != user.role:
            user.role = payload["role"]
            revoke_tokens(uow, user, "role_changed", ctx.now)  # tokens carry the role: the old ones stop
        if "spending" in payload:
            rights = payload["spending"]
            user.may_buy = rights.get("may_buy", user.may_buy)
            user.may_pay_on_invoice = rights.get("may_pay_on_invoice", user.may_pay_on_invoice)
            if "monthly_budget_cents" in rights:
                user.monthly_budget_cents = rights["monthly_budget_cents"]
            revoke_tokens(uow, user, "rights_changed", ctx.now)  # tokens carry the rights too
        if payload.get("active") is False and user.active:
            user.active = False
            _revoke(s, ctx.now, RefreshToken.user_id == user.id)  # signed out everywhere, at once
            revoke_tokens(uow, user, "deactivated", ctx.now)
        elif payload.get("active") is True:
            user.active = True
        return user_view(user)


def _owners(session, operator_id):
    return session.scalar(select(func.count()).select_from(User).where(
        User.operator_id == operator_id, User.role == "owner", User.active.is_(True)))


def _active_user(session, user_id):
    user = session.get(User, user_id)
    domain.require_active(user)
    return user


def _actor(session, actor, operator_id):
    user = _active_user(session, actor["user_id"])
    domain.require_same_workshop(user, operator_id)
    return user


# ---- views ----------------------------------------------------------------------------------------------------

def operator_view(op):
    return {"id": op.id, "legal_name": op.legal_name, "legal_form": op.legal_form, "kind": op.kind,
            "country": op.country,
            "vat_id": op.vat_id, "address": {"street": op.street, "postal_code": op.postal_code, "city": op.city},
            "registered_at": op.registered_at}


def user_view(user):
    confirmed = user.factor is not None and user.factor.confirmed_at is not None
    return {"id": user.id, "operator_id": user.operator_id, "email": user.email, "name": user.name,
            "role": user.role, "active": user.active, "second_factor": "totp" if confirmed else "none",
            "status": "invited" if user.password_hash is None else "member", "created_at": user.created_at,
            "spending": domain.spending(user), "email_verified": user.email_verified_at is not None}


# ---- SERMI: a technician's authorisation for security-related work -------------------------------------------------

def _trust_centre(ctx):
    if ctx.trust_centre is None:
        raise domain.sermi_not_offered()
    return ctx.trust_centre


def start_sermi_link(ctx, actor):
    """Where to send the technician's browser to sign in at the trust centre; its answer comes back to
    `complete_sermi_link` with this sign-in's state."""
    url, state, nonce, verifier = _trust_centre(ctx).start()
    browser = domain.new_opaque_token()  # the gateway keeps it in this browser's cookie, for the answer to bring
    with ctx.store.transaction() as uow:
        _active_user(uow.session, actor["user_id"])
        uow.session.add(SermiLink(state=state, user_id=actor["user_id"], nonce=nonce, verifier=verifier,
                                  browser_hash=domain.digest(browser), created_at=ctx.now))
    return {"authorization_url": url, "expires_in": domain.SERMI_LINK_SECONDS, "browser_binding": browser}


def complete_sermi_link(ctx, query, browser=None):
    """The trust centre's answer: in the browser that started the link (`browser`, the secret its cookie brings
    back), for the AOS user who started it; the code traded once (PKCE), the ID token checked (signature, issuer,
    audience, expiry, this sign-in's nonce), its claims held against the workshop; each refusal is recorded
    (SermiRefused)."""
    centre = _trust_centre(ctx)
    with ctx.store.transaction() as uow:
        link = uow.session.get(SermiLink, query["state"])
        domain.require_sermi_link(link, ctx.now)
        link.used_at = ctx.now  # once: a replayed answer (and its nonce) is refused
        user = _active_user(uow.session, link.user_id)
        operator = uow.session.get(Operator, user.operator_id)
        nonce, verifier, bound = link.nonce, link.verifier, link.browser_hash
    _refused_if(ctx, user, domain.sermi_answer_refusal(
        bound, browser, None if query.get("code") and not query.get("error") else query.get("error") or "no code"))
    try:
        tokens = centre.finish(query["code"], verifier)
        claims = centre.id_claims(tokens.get("id_token") or "", nonce, ctx.now)
    except Unauthenticated as exc:
        _refused_if(ctx, user, domain.sermi_trust_centre_refused(exc))
    _refused_if(ctx, user, domain.sermi_refusal(claims, operator.vat_id, ctx.now))
    with ctx.store.transaction() as uow:
        found = uow.session.get(SermiAuthorisation, user.id) or SermiAuthorisation(user_id=user.id)
        found.subject, found.cabuid, found.iouid, found.ioeuid = (claims["sub"], claims["cabuid"], claims["iouid"],
                                                                   claims["ioeuid"])
        found.chain, found.access_token, found.linked_at = claims.get("chain"), tokens["access_token"], ctx.now
        found.authenticated_at = datetime.fromtimestamp(claims["auth_time"], timezone.utc)
        uow.session.add(found)
        uow.emit("SermiLinked", {"operator_id": user.operator_id, "user_id": user.id,
                                 "authorisation_id": claims["ioeuid"]["authorisation_id"], "cabuid": claims["cabuid"],
                                 "chain": claims.get("chain") is not None, "linked_at": ctx.now}, subject=user.id)
        return _sermi_view(found, ctx.now)


def _refused_if(ctx, user, refusal):
    """A SERMI refusal the domain decided (None: none), recorded for the trail in a transaction of its own, then
    answered."""
    if refusal is None:
        return
    with ctx.store.transaction() as uow:
        uow.emit("SermiRefused", {"operator_id": user.operator_id, "user_id": user.id, "reason": refusal.code,
                                  "refused_at": ctx.now}, subject=user.id)
    raise refusal


def sermi_status(ctx, actor):
    with ctx.store.read() as s:
        found = s.get(SermiAuthorisation, actor["user_id"])
        return _sermi_view(found, ctx.now) if found else {"linked": False}


def sermi_check(ctx, actor):
    """Before security-related work: linked, signed in at the trust centre within 15 minutes, and the trust centre
    still authorises the technician now. Returns the authorisation; refusals are recorded."""
    with ctx.store.read() as s:
        user = _active_user(s, actor["user_id"])
        found = s.get(SermiAuthorisation, user.id)
    _refused_if(ctx, user, domain.sermi_work_refusal(
        found, lambda: _trust_centre(ctx).still_authorised(found.access_token), ctx.now))
    return _sermi_view(found, ctx.now)


def _sermi_view(found, now):
    fresh_until = found.authenticated_at + timedelta(seconds=domain.SERMI_FRESH_SECONDS)
    return {"linked": True, "authorisation_id": found.ioeuid.get("authorisation_id"), "body": found.cabuid,
            "country": found.ioeuid.get("country"), "workshop": found.iouid, "chain": found.chain,
            "authenticated_at": found.authenticated_at, "fresh_until": fresh_until, "fresh": now <= fresh_until}
