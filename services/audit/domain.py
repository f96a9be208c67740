"""The audit trail's rules in plain Python: what an entry says of a fact, how entries chain, what a checkpoint
signs, and how a chain is checked.

Each workshop has a chain of its own (facts that belong to no workshop, such as a withdrawn flash file, go to
the platform's chain). Entry n's hash is SHA-256 over entry n-1's hash and entry n's own fields in a canonical
form, so changing, deleting or reordering an entry breaks every hash after it. A checkpoint signs (Ed25519) a
chain's head at an instant (at least every minute): it pins what the database held, so a rewrite of the chain
with every hash recomputed is caught, and so is an entry deleted from the end up to the last checkpoint; what
came after the last checkpoint is as safe as the database until the next one.
"""
import base64
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime

GENESIS = "0" * 64
PLATFORM = "platform"  # the chain of facts that belong to no workshop

# What each fact says in words, for the workshop reading its trail (fields of the event's data).
SUMMARIES = {
    "OperatorRegistered": "Workshop {legal_name} registered ({country})",
    "UserJoined": "{email} joined as {role}",
    "TokensRevoked": "Sign-in ended for user {user_id}: {reason}",
    "SignedIn": "Signed in ({amr})",
    "SignInFailed": "Sign-in failed for {email}",
    "SermiLinked": "SERMI authorisation {authorisation_id} confirmed by the trust centre (body {cabuid})",
    "SermiRefused": "SERMI refused: {reason}",
    "AccessPurchased": "Bought {tariff_code}",
    "AccessExpired": "Access window closed",
    "CreditIssued": "Credit issued: {reason}",
    "PaymentCaptured": "Shop order {order_id} paid",
    "PaymentRefused": "Shop order {order_id} not paid: {reason}",
    "DocumentViewed": "Document {document_id} opened",
    "VehicleViewed": "Vehicle data read: {view}",
    "VehiclesExported": "Build data of {vehicles} cars exported ({series})",
    "ApiKeyIssued": "API key {name} created",
    "ApiKeyRevoked": "API key {key_id} revoked",
    "ServiceRecordAdded": "Service record {record_id} added at {odometer_km} km",
    "AgentChanged": "Agent {agent_name}: {change}",
    "SessionStarted": "Programming session {session_id} started",
    "SessionEnded": "Programming session {session_id} ended: {outcome}",
    "SessionExpired": "Programming session {session_id} ran out of paid time",
    "FlashCompleted": "ECU {ecu_address} flashed to {software_version}",
    "FlashFailed": "ECU {ecu_address} flash failed: {cause}",
    "SecurityKeyIssued": "Security key issued for ECU {ecu_address} {ecu_name} (type {ecu_type})",
    "AgentRefused": "The agent was refused a {request} (ECU {ecu_address}): {reason}; the session ended",
    "SecurityJobOpened": "Security job on the car, SERMI {authorisation_id}; owner {owner_name} identified",
    "GatewayUnlockIssued": "Secure gateway {ecu_address} unlock token issued",
    "KeyProgrammed": "Key in slot {slot} of immobiliser {ecu_address}: {outcome}",
    "GatewayUnlocked": "Secure gateway {ecu_address} unlocked online by the agent: {outcome}",
    "SecurityRefused": "Security-related work refused: {reason}",
    "TrailExported": "Trail exported ({entries} entries)",  # recorded by audit itself, not an event
    "PackageWithdrawn": "Flash file {package_id} withdrawn: {check}",
    "OrderPlaced": "Shop order {order_id} placed",
    "OrderCancelled": "Shop order {order_id} cancelled: {reason}",
}


class _Blank(dict):
    def __missing__(self, key):
        return "-"


@dataclass(frozen=True)
class Fact:
    """An entry's content, before it has a place in a chain."""
    chain: str
    event_id: str
    kind: str
    occurred_at: datetime
    user_id: str | None
    vin: str | None
    summary: str
    detail: dict = field(default_factory=dict)


def fact_of(event_id, kind, occurred_at, data):
    """What the trail records of an event: whose chain, who, which car, in words, and the fact itself."""
    return Fact(chain=data.get("operator_id") or PLATFORM, event_id=event_id, kind=kind, occurred_at=occurred_at,
                user_id=data.get("user_id"), vin=data.get("vin"),
                summary=SUMMARIES.get(kind, kind).format_map(_Blank(
                    {k: ", ".join(map(str, v)) if isinstance(v, list) else v for k, v in data.items()
                     if v is not None})),
                detail=data)


def canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def entry_hash(prev_hash, seq, fact):
    """The hash that chains entry `seq` of `fact.chain` to the one before it."""
    body = {"chain": fact.chain, "seq": seq, "event_id": fact.event_id, "kind": fact.kind,
            "occurred_at": fact.occurred_at.isoformat(), "user_id": fact.user_id, "vin": fact.vin,
            "summary": fact.summary, "detail": fact.detail}
    return hashlib.sha256(prev_hash.encode() + canonical(body)).hexdigest()


def checkpoint_message(chain, seq, head_hash, signed_at, pruned=False):
    """What a checkpoint's signature covers."""
    return canonical({"chain": chain, "seq": seq, "hash": head_hash, "signed_at": signed_at.isoformat(),
                      "pruned": pruned})


def sign(private_key, message):
    return base64.b64encode(private_key.sign(message)).decode()


def signature_holds(public_key, message, signature):
    from cryptography.exceptions import InvalidSignature
    try:
        public_key.verify(base64.b64decode(signature), message)
        return True
    except (InvalidSignature, ValueError):
        return False


@dataclass(frozen=True)
class Problem:
    """The first place a chain does not hold, in words."""
    chain: str
    seq: int
    entry_id: str | None
    what: str

    def as_dict(self):
        return {"chain": self.chain, "seq": self.seq, "entry_id": self.entry_id, "problem": self.what}


def check_chain(chain, entries, checkpoints, public_key):
    """The first problem of one chain, or None. `entries` as stored (any order, each with id, seq, prev_hash,
    hash and its Fact), `checkpoints` with seq, hash, signed_at, signature and pruned. A pruned checkpoint is
    where the chain now starts; a checkpoint whose signature fails is itself a problem."""
    for cp in checkpoints:
        if not signature_holds(public_key, checkpoint_message(chain, cp.seq, cp.hash, cp.signed_at, cp.pruned),
                               cp.signature):
            return Problem(chain, cp.seq, None, "a checkpoint's signature does not hold (checkpoint changed)")
    base = max((cp for cp in checkpoints if cp.pruned), key=lambda cp: cp.seq, default=None)
    seq, prev = (base.seq, base.hash) if base else (0, GENESIS)
    pinned = {cp.seq: cp.hash for cp in checkpoints if not cp.pruned and cp.seq > seq}
    for entry in sorted(entries, key=lambda e: (e.seq, e.id)):
        if entry.seq <= seq:
            return Problem(chain, entry.seq, entry.id, "entry out of order or duplicated")
        if entry.seq != seq + 1:
            return Problem(chain, seq + 1, None, f"entries {seq + 1} to {entry.seq - 1} deleted")
        if entry.prev_hash != prev:
            return Problem(chain, entry.seq, entry.id, "does not follow the entry before it (deleted or reordered)")
        if entry_hash(prev, entry.seq, entry.fact) != entry.hash:
            return Problem(chain, entry.seq, entry.id, "changed after it was recorded")
        if entry.seq in pinned and pinned[entry.seq] != entry.hash:
            return Problem(chain, entry.seq, entry.id, "differs from the signed checkpoint (chain rewritten)")
        seq, prev = entry.seq, entry.hash
    beyond = [s for s in pinned if s > seq]
    if beyond:
        return Problem(chain, seq + 1, None, f"entries {seq + 1} to {max(beyond)} deleted (a signed checkpoint "
                                             f"names them)")
    return None
