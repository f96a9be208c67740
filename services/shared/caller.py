"""Services trust a caller only with proof. The gateway hands each RPC the caller's access token in the actor
(`actor["token"]`); the service verifies the token itself (identity's signature, expiry, audience, a full sign-in)
and takes who is asking from its claims, never from the fields it was handed. Any process that reaches the broker
can send an RPC; only a token identity signed makes it somebody, and only that somebody."""
import functools
import inspect
from dataclasses import dataclass
from pathlib import Path

from nameko.extensions import DependencyProvider
from nameko.rpc import rpc

from services.shared.config import data_path, of_container, variable
from services.shared.errors import EXPECTED, Forbidden, Unauthenticated
from services.shared.spending import rights_of
from services.shared.tokens import TokenVerifier, read_key


@dataclass(frozen=True)
class ProofSettings:
    """What checking a caller's token needs: the public half of identity's signing key."""
    public_key_file: Path = variable("AOS_JWT_PUBLIC_KEY_FILE", data_path, "keys/token-signing.pub.pem")


def actor_of(claims, token=None):
    """Who is asking, from a verified access token's claims: what every service works with."""
    role = claims["role"]
    actor = {"user_id": claims["sub"], "operator_id": claims["op"], "role": role,
             "spending": claims.get("buy") or rights_of({"role": role}), "email_verified": bool(claims.get("ev")),
             "auth_time": claims.get("auth_time"), "amr": claims.get("amr")}
    return actor | ({"token": token} if token else {})


class Proof(DependencyProvider):
    """The public half of identity's token key, read once at start (AOS_JWT_PUBLIC_KEY_FILE)."""

    def setup(self):
        key_file = of_container(self.container, ProofSettings).public_key_file
        self.verifier = TokenVerifier(read_key(str(key_file), "public"))

    def get_dependency(self, worker_ctx):
        return self

    def actor(self, handed):
        token = handed.get("token") if isinstance(handed, dict) else None
        if not isinstance(token, str) or not token:
            raise Unauthenticated("PROOF_MISSING", "A call on behalf of a user carries the user's access token.")
        claims = self.verifier.verify(token)
        if claims.get("scope") != "api":
            raise Forbidden("TOKEN_SCOPE", "This needs a full sign-in (with the second factor).")
        return actor_of(claims, token)


def api(fn):
    """An RPC entrypoint; one that acts for a user (its first parameter is `actor`) gets the actor its token
    proves (the service class needs `proof = Proof()`)."""
    if list(inspect.signature(fn).parameters)[1:2] == ["actor"]:
        inner = fn

        @functools.wraps(inner)
        def fn(self, actor, *args, **kwargs):
            return inner(self, self.proof.actor(actor), *args, **kwargs)
    return rpc(expected_exceptions=EXPECTED)(fn)
