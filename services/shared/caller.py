"""Services trust a caller only with proof. The gateway hands each RPC the caller's access token in the actor
(`actor["token"]`); the service verifies the token itself (identity's signature, expiry, audience, a full sign-in)
and takes who is asking from its claims, never from the fields it was handed. Any process that reaches the broker
can send an RPC; only a token identity signed makes it somebody, and only that somebody. Platform staff's RPCs
take a staff token instead, signed with operations' own key (`python -m deploy.staff`)."""
import functools
import inspect
from dataclasses import dataclass
from pathlib import Path

from nameko.extensions import DependencyProvider

from services.shared.config import data_path, of_container, variable
from services.shared.errors import EXPECTED, Forbidden, Unauthenticated
from services.shared.spending import rights_of
from services.shared.tokens import KEY_ISSUER, StaffVerifier, TokenVerifier, issuer_of, read_key
from services.shared.queues import lane_rpc, rpc


@dataclass(frozen=True)
class ProofSettings:
    """What checking a caller's token needs: the public halves of identity's and of operations' signing keys."""
    public_key_file: Path = variable("AOS_JWT_PUBLIC_KEY_FILE", data_path, "keys/token-signing.pub.pem")
    staff_key_file: Path = variable("AOS_STAFF_PUBLIC_KEY_FILE", data_path, "keys/staff-signing.pub.pem")
    key_token_key_file: Path = variable("AOS_KEY_TOKEN_PUBLIC_KEY_FILE", data_path, "keys/key-token-signing.pub.pem")


def actor_of(claims, token=None):
    """Who is asking, from a verified access token's claims: what every service works with."""
    role = claims["role"]
    actor = {"user_id": claims["sub"], "operator_id": claims["op"], "role": role,
             "spending": claims.get("buy") or rights_of({"role": role}), "email_verified": bool(claims.get("ev")),
             "auth_time": claims.get("auth_time"), "amr": claims.get("amr"), "session_id": claims.get("sid"),
             "scope": claims.get("scope")}
    return actor | ({"token": token} if token else {})


def _token(handed, whose):
    token = handed.get("token") if isinstance(handed, dict) else handed  # an actor with its token, or the token
    if not isinstance(token, str) or not token:
        raise Unauthenticated("PROOF_MISSING", f"A call on behalf of {whose} carries {whose}'s token.")
    return token


class Proof(DependencyProvider):
    """The public halves of identity's and operations' token keys, read once at start."""

    def setup(self):
        keys = of_container(self.container, ProofSettings)
        self.verifier = TokenVerifier(read_key(str(keys.public_key_file), "public"))
        self.staff_verifier = StaffVerifier(read_key(str(keys.staff_key_file), "staff public"))
        self.key_verifier = TokenVerifier(read_key(str(keys.key_token_key_file), "key-proof public"), KEY_ISSUER)

    def get_dependency(self, worker_ctx):
        return self

    def actor(self, handed, scopes=("api",)):
        """A workshop's user, fully signed in (or, with scopes=("api", "enrol"), still to enrol a second factor)."""
        token = _token(handed, "a user")
        claims = self.verifier.verify(token)
        if claims.get("scope") not in scopes:
            raise Forbidden("TOKEN_SCOPE", "This needs a full sign-in (with the second factor).")
        return actor_of(claims, token)

    def reader(self, handed):
        """A fully signed-in user, or the holder of an API key given the scope of this service's data (the service
        class's `key_scope`), as partners proved it: a key reads as its workshop, and buys nothing."""
        token = _token(handed, "a user or an API key")
        if issuer_of(token) != KEY_ISSUER:
            return self.actor(handed)
        claims = self.key_verifier.verify(token)
        scope = getattr(self.container.service_cls, "key_scope", None)
        if scope is None or scope not in claims.get("ks", ()):
            raise Forbidden("KEY_SCOPE", f"This API key may not read this data (scope `{scope}`).", {"scope": scope})
        return actor_of(claims, token)

    def staff(self, handed):
        """A member of platform staff: who, from operations' signature (never from the payload)."""
        token = _token(handed, "platform staff")
        try:
            claims = self.staff_verifier.verify(token)
        except Unauthenticated:
            raise Forbidden("STAFF_ONLY", "This is for platform staff: it needs a staff token (python -m deploy.staff).")
        return {"staff": claims["sub"], "token": token}


# The first parameter of an RPC says whose proof it needs: `actor` a fully signed-in user, `holder` any signed-in
# user (a new one enrolling a second factor too), `reader` a signed-in user or an API key with the service's
# key_scope (data a tool maker reads), `staff` platform staff.
PROVERS = {"actor": Proof.actor, "holder": lambda proof, handed: proof.actor(handed, ("api", "enrol")),
           "reader": Proof.reader, "staff": Proof.staff}


def api(fn=None, *, lane=None):
    """An RPC entrypoint; one that acts for somebody (its first parameter is one of PROVERS) gets who its token
    proves (the service class needs `proof = Proof()`). `@api(lane="agents")`: on the service's lane of that name
    (services.shared.queues.lane_rpc), which callers reach as RpcProxy("<service>-agents")."""
    if fn is None:
        return functools.partial(api, lane=lane)
    first = list(inspect.signature(fn).parameters)[1:2]
    if first and first[0] in PROVERS:
        inner, prove = fn, PROVERS[first[0]]

        @functools.wraps(inner)
        def fn(self, handed, *args, **kwargs):
            return inner(self, prove(self.proof, handed), *args, **kwargs)
    fn.proof = first[0] if first and first[0] in PROVERS else None  # the broker's grants follow it (deploy/broker)
    fn.lane = lane
    return (lane_rpc(lane).decorator if lane else rpc)(expected_exceptions=EXPECTED)(fn)
