"""Commands that must happen once (purchases, top-ups, shop orders, a VIN pass's session), whatever the retries.

A keyed command carries a key the caller chose (the Idempotency-Key header, or a session id); its row holds the
key under a unique constraint. The first request with a key does the work; a later one with the same key and the
same body answers as the first did; the same key with another body is refused (409). Two requests racing with
one key both try to insert: the database's unique constraint lets one win, and the loser answers as the winner
did, by reading the winner's row. That is the one race strategy."""
import hashlib
import json

from sqlalchemy.exc import IntegrityError

from services.shared.errors import Conflict


def request_fingerprint(payload):
    """The same idempotency key must come with the same body: compare canonical JSON."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


def check_same_request(existing, fingerprint):
    """A key seen before must come with the body it came with then."""
    if existing.fingerprint != fingerprint:
        raise Conflict("IDEMPOTENCY_KEY_REUSED", "This Idempotency-Key was used with another request body; "
                       "use a new key for a new request.", {"header": "Idempotency-Key"})


def once(store, find, create, replay):
    """Run a keyed command once. `find(session)` is the row of this key, or None; `create(uow)` does the work and
    inserts that row, returning the answer; `replay(session, row)` checks the repeat is the same request and
    answers as the first did. Returns (answer, True when this call did the work)."""
    try:
        with store.transaction() as uow:
            existing = find(uow.session)
            if existing is not None:
                return replay(uow.session, existing), False
            return create(uow), True
    except IntegrityError:  # the same key raced in and won: answer as it did
        with store.read() as session:
            existing = find(session)
            if existing is None:
                raise
            return replay(session, existing), False
