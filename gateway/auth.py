"""Bearer tokens, verified locally with identity's public key, and refused when identity has revoked them: the
gateway keeps identity's revocations in memory (TokensRevoked, and identity's list when it starts), so no request
waits on identity."""
import time
from dataclasses import dataclass
from datetime import datetime

from nameko.extensions import DependencyProvider

from services.shared.caller import ProofSettings, actor_of
from services.shared.config import of_container
from services.shared.errors import Forbidden, Unauthenticated
from services.partners.schemas import PREFIX as KEY_PREFIX
from services.shared.tokens import KEY_ISSUER, TokenVerifier, read_key


@dataclass(frozen=True)
class Caller:
    user_id: str
    operator_id: str
    role: str
    session_id: str | None
    scope: str
    claims: dict
    token: str

    def actor(self):
        """Who is asking, as services receive it: with the token that proves it (services.shared.caller)."""
        return actor_of(self.claims, self.token)


REMEMBER_SECONDS = 3600 + 120  # past the longest access token's life a revocation has nothing left to refuse


def _ms(instant):
    if isinstance(instant, str):
        instant = datetime.fromisoformat(instant)
    return int(instant.timestamp() * 1000)


class Revocations:
    """Who may no longer use tokens issued up to an instant: a user's (every session) or one session's."""

    RELOAD_SECONDS = 30

    def __init__(self):
        self.users, self.sessions = {}, {}
        self.loaded = False
        self.loaded_at = 0.0

    def due(self):
        return not self.loaded or time.monotonic() - self.loaded_at > self.RELOAD_SECONDS

    def add(self, revocation):
        book, key = ((self.sessions, revocation["session_id"]) if revocation.get("session_id")
                     else (self.users, revocation["user_id"]))
        book[key] = max(book.get(key, 0), _ms(revocation["revoked_at"]))

    def load(self, revocations):
        for revocation in revocations:
            self.add(revocation)
        self.loaded, self.loaded_at = True, time.monotonic()
        horizon = (time.time() - REMEMBER_SECONDS) * 1000
        for book in (self.users, self.sessions):
            for key in [k for k, at in book.items() if at < horizon]:
                del book[key]

    def refuses(self, claims):
        issued = claims.get("iat_ms", claims.get("iat", 0) * 1000)
        return issued <= max(self.users.get(claims.get("sub"), -1), self.sessions.get(claims.get("sid"), -1))


def api_key(request):
    """The API key a request was made with (`Authorization: Bearer aos_...`), or None."""
    kind, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    return token if kind.lower() == "bearer" and token.startswith(KEY_PREFIX) else None


class Authenticator(DependencyProvider):
    def setup(self):
        keys = of_container(self.container, ProofSettings)
        self.verifier = TokenVerifier(read_key(str(keys.public_key_file), "public"))
        self.key_verifier = TokenVerifier(read_key(str(keys.key_token_key_file), "key-proof public"), KEY_ISSUER)
        self.revocations = Revocations()

    def get_dependency(self, worker_ctx):
        return self

    def caller(self, request, scope="api"):
        """The verified caller, or 401/403. `scope="enrol"` also admits a full token (any user may enrol)."""
        header = request.headers.get("Authorization", "")
        kind, _, token = header.partition(" ")
        if kind.lower() != "bearer" or not token.strip():
            raise Unauthenticated("TOKEN_MISSING", "Sign in and send the access token as `Authorization: Bearer ...`.")
        if api_key(request):
            raise Forbidden("API_KEY_NOT_ACCEPTED", "API keys read data (the routes the API document marks with "
                            "`apiKey`); this one needs a signed-in user's access token.")
        claims = self.verifier.verify(token.strip())
        if self.revocations.refuses(claims):
            raise Unauthenticated("TOKEN_REVOKED", "This sign-in has ended (signed out, deactivated, or the role or "
                                  "password changed): please sign in again.")
        if claims.get("scope") != scope and not (scope == "enrol" and claims.get("scope") == "api"):
            raise Forbidden("SECOND_FACTOR_REQUIRED" if claims.get("scope") == "enrol" else "TOKEN_SCOPE",
                            "Set up your second factor first: POST /api/v1/auth/totp/enrol, then /confirm.")
        return Caller(claims["sub"], claims["op"], claims["role"], claims.get("sid"), claims["scope"], claims,
                      token.strip())

    def key_holder(self, proof):
        """The holder of an API key partners admitted, from the proof it signed."""
        claims = self.key_verifier.verify(proof)
        return Caller(claims["sub"], claims["op"], claims["role"], claims.get("sid"), claims["scope"], claims, proof)
