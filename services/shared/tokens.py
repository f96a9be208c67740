"""Access tokens: JWTs signed by identity with Ed25519 and verified by the gateway without a call.

Claims: sub (user), op (operator), role, scope (`api`, or `enrol` for a user who must first enrol a second
factor), sid (the login session: the refresh-token family), amr (how the user proved themselves), auth_time,
buy (what the user may spend: may_buy, on_invoice, monthly_budget_cents), ev (the email address is confirmed),
iat_ms (when it was issued, in milliseconds: a revocation refuses the tokens issued up to its instant).
"""
import collections
import time
import uuid
from datetime import datetime, timezone

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.shared.config import ConfigurationError
from services.shared.errors import Unauthenticated

ISSUER, AUDIENCE, ALGORITHM = "aos-identity", "aos", "EdDSA"
CHALLENGE_AUDIENCE = "aos-second-factor"
DEVICE_AUDIENCE = "aos-device"  # a browser or app that completed sign-in before (OWASP's device cookie)
DEVICE_TTL = 400 * 86400
CEREMONY_AUDIENCE = "aos-webauthn"
# Platform staff's tokens are signed by operations' own key (never identity's, never a workshop's sign-in): the
# private half stays with the people who run AOS (`python -m deploy.staff`), services hold the public half.
STAFF_ISSUER, STAFF_AUDIENCE, STAFF_SCOPE = "aos-operations", "aos-staff", "staff"
STAFF_MAX_TTL = 12 * 3600  # a working day: a staff token lives no longer, however it was signed
# An API key's proof is signed by partners (its own key: never identity's), for the key's workshop and scopes, and
# lives a minute: partners checks the key on every request and hands the proof on (services.shared.caller).
KEY_ISSUER, KEY_ROLE, KEY_SCOPE = "aos-partners", "key", "key"


def generate_keypair(private_path, public_path):
    """A new Ed25519 key pair as PEM files (the private one readable by its owner only)."""
    key = Ed25519PrivateKey.generate()
    private_path.parent.mkdir(parents=True, exist_ok=True)
    private_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    private_path.chmod(0o600)
    public_path.write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))


def read_key(path, what):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise ConfigurationError(f"cannot read the token {what} key at {path}: {exc.strerror}; "
                                 f"`make run` creates a development pair; production names it by its AOS_*_KEY_FILE setting")


class TokenSigner:
    def __init__(self, private_pem, access_ttl):
        self.key = serialization.load_pem_private_key(private_pem, password=None)
        self.access_ttl = access_ttl

    def access_token(self, user, scope, sid, amr, auth_time, now=None, extra=None):
        now = now or datetime.now(timezone.utc)
        claims = {
            "iss": ISSUER, "aud": AUDIENCE, "sub": user.id, "op": user.operator_id, "role": user.role,
            "scope": scope, "sid": sid, "amr": amr, "auth_time": int(auth_time.timestamp()),
            "iat": int(now.timestamp()), "exp": int(now.timestamp()) + self.access_ttl, "jti": str(uuid.uuid4()),
            "iat_ms": int(now.timestamp() * 1000),
        }
        claims.update(extra or {})  # buy: what the owner lets this user spend; ev: the address is confirmed
        return jwt.encode(claims, self.key, algorithm=ALGORITHM)

    def challenge(self, user_id, ttl=300, now=None):
        """Proof that the password was right, to be completed with a second factor within `ttl` seconds."""
        now = int((now or datetime.now(timezone.utc)).timestamp())
        return jwt.encode({"iss": ISSUER, "aud": CHALLENGE_AUDIENCE, "sub": user_id, "iat": now, "exp": now + ttl,
                           "jti": str(uuid.uuid4())}, self.key, algorithm=ALGORITHM)

    def read_challenge(self, token):
        return decode(token, self.key.public_key(), CHALLENGE_AUDIENCE, "CHALLENGE")

    def ceremony(self, user_id, purpose, challenge, ttl=300, now=None, **more):
        """A passkey ceremony's state, carried by the client: whose, for what, and the challenge it signs."""
        now = int((now or datetime.now(timezone.utc)).timestamp())
        return jwt.encode({"iss": ISSUER, "aud": CEREMONY_AUDIENCE, "sub": user_id, "purpose": purpose,
                           "chal": challenge, "iat": now, "exp": now + ttl, **more}, self.key, algorithm=ALGORITHM)

    def read_ceremony(self, token, purpose):
        claims = decode(token, self.key.public_key(), CEREMONY_AUDIENCE, "CEREMONY")
        if claims.get("purpose") != purpose:
            raise Unauthenticated("CEREMONY_INVALID", "This passkey step belongs to another ceremony.")
        return claims

    def device_token(self, user_id, device_id, now=None):
        """Proof that this browser or app completed a sign-in of this user before."""
        now = int((now or datetime.now(timezone.utc)).timestamp())
        return jwt.encode({"iss": ISSUER, "aud": DEVICE_AUDIENCE, "sub": user_id, "did": device_id, "iat": now,
                           "exp": now + DEVICE_TTL}, self.key, algorithm=ALGORITHM)

    def read_device(self, token):
        """The device token's claims, or None for one that is not ours, expired, or no token at all."""
        if not token:
            return None
        try:
            return decode(token, self.key.public_key(), DEVICE_AUDIENCE, "DEVICE")
        except Unauthenticated:
            return None


class TokenVerifier:
    """An access token's claims once its signature is checked. A workshop sends the same token for up to an hour,
    so each process keeps the tokens it has checked (the exact text: another token is checked afresh) and only
    asks the clock again: the signature is most of what a cheap request costs. `issuer`: identity's (a user's
    token) or partners' (an API key's proof)."""

    REMEMBERED = 20_000

    def __init__(self, public_pem, issuer=ISSUER):
        self.key = serialization.load_pem_public_key(public_pem)
        self.issuer = issuer
        self.checked = collections.OrderedDict()

    def verify(self, token):
        claims = self.checked.get(token)
        if claims is None:
            claims = decode(token, self.key, AUDIENCE, "TOKEN", issuer=self.issuer)
            self.checked[token] = claims
            if len(self.checked) > self.REMEMBERED:
                self.checked.popitem(last=False)  # the oldest checked: the first to expire
        elif claims["exp"] <= time.time():  # as PyJWT judges it
            del self.checked[token]
            raise Unauthenticated("TOKEN_EXPIRED", "Your sign-in has expired; please sign in again.")
        return dict(claims)


def key_token(private_pem, key_id, operator_id, scopes, ttl, now=None):
    """An API key's proof for the services: its workshop (`op`), what it may read (`ks`), the key (`sid`)."""
    now = now or datetime.now(timezone.utc)
    key = serialization.load_pem_private_key(private_pem, password=None)
    return jwt.encode({"iss": KEY_ISSUER, "aud": AUDIENCE, "sub": f"key:{key_id}", "op": operator_id,
                       "role": KEY_ROLE, "scope": KEY_SCOPE, "ks": list(scopes), "sid": key_id, "ev": True,
                       "iat": int(now.timestamp()), "exp": int(now.timestamp()) + ttl,
                       "iat_ms": int(now.timestamp() * 1000)}, key, algorithm=ALGORITHM)


def issuer_of(token):
    """Who says they signed `token` (unchecked: it only picks the key to check it with), or None."""
    try:
        return jwt.decode(token, options={"verify_signature": False}).get("iss")
    except jwt.InvalidTokenError:
        return None


def staff_token(private_pem, who, ttl, now=None):
    """A staff member's token: who (their address) for `ttl` seconds, signed with operations' key."""
    now = int((now or datetime.now(timezone.utc)).timestamp())
    key = serialization.load_pem_private_key(private_pem, password=None)
    return jwt.encode({"iss": STAFF_ISSUER, "aud": STAFF_AUDIENCE, "sub": who, "scope": STAFF_SCOPE, "iat": now,
                       "exp": now + ttl, "jti": str(uuid.uuid4())}, key, algorithm=ALGORITHM)


class StaffVerifier:
    def __init__(self, public_pem):
        self.key = serialization.load_pem_public_key(public_pem)

    def verify(self, token):
        claims = decode(token, self.key, STAFF_AUDIENCE, "STAFF_TOKEN", issuer=STAFF_ISSUER)
        if claims.get("scope") != STAFF_SCOPE or claims["exp"] - claims["iat"] > STAFF_MAX_TTL:
            raise Unauthenticated("STAFF_TOKEN_INVALID", "The staff token is not valid.")
        return claims


def decode(token, public_key, audience, kind, issuer=ISSUER):
    try:
        return jwt.decode(token, public_key, algorithms=[ALGORITHM], audience=audience, issuer=issuer,
                          options={"require": ["exp", "iat", "sub"]})
    except jwt.ExpiredSignatureError:
        raise Unauthenticated(f"{kind}_EXPIRED", "Your sign-in has expired; please sign in again.")
    except jwt.InvalidTokenError:
        raise Unauthenticated(f"{kind}_INVALID", "The token is not valid.")
