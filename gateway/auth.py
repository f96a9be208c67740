"""Bearer tokens, verified locally with identity's public key: no call per request."""
from dataclasses import dataclass

from nameko.extensions import DependencyProvider

from gateway.settings import GatewaySettings
from services.shared.config import of_container
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
        key_file = of_container(self.container, GatewaySettings).public_key_file
        self.verifier = TokenVerifier(read_key(str(key_file), "public"))

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
