"""Bearer tokens, verified locally with identity's public key: no call per request."""
from dataclasses import dataclass

from nameko.extensions import DependencyProvider

from services.shared.config import setting
from services.shared.errors import Forbidden, Unauthenticated
from services.shared.tokens import TokenVerifier, read_key


@dataclass(frozen=True)
class Caller:
    user_id: str
    operator_id: str
    role: str
    session_id: str | None
    scope: str
    claims: dict

    def actor(self):
        """Who is asking, as services receive it."""
        return {"user_id": self.user_id, "operator_id": self.operator_id, "role": self.role}


class Authenticator(DependencyProvider):
    def setup(self):
        self.verifier = TokenVerifier(read_key(setting(self.container.config, "JWT_PUBLIC_KEY_FILE"), "public"))

    def get_dependency(self, worker_ctx):
        return self

    def caller(self, request, scope="api"):
        """The verified caller, or 401/403. `scope="enrol"` also admits a full token (any user may enrol)."""
        header = request.headers.get("Authorization", "")
        kind, _, token = header.partition(" ")
        if kind.lower() != "bearer" or not token.strip():
            raise Unauthenticated("TOKEN_MISSING", "Sign in and send the access token as `Authorization: Bearer ...`.")
        claims = self.verifier.verify(token.strip())
        if claims.get("scope") != scope and not (scope == "enrol" and claims.get("scope") == "api"):
            raise Forbidden("SECOND_FACTOR_REQUIRED" if claims.get("scope") == "enrol" else "TOKEN_SCOPE",
                            "Set up your second factor first: POST /api/v1/auth/totp/enrol, then /confirm.")
        return Caller(claims["sub"], claims["op"], claims["role"], claims.get("sid"), claims["scope"], claims)
