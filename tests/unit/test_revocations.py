"""The gateway's revocation read model: tokens issued up to a user's or a session's revocation are refused, later
ones are not, and old entries are forgotten once no token they could refuse is alive."""
import time
from datetime import datetime, timedelta, timezone

from gateway.auth import REMEMBER_SECONDS, Revocations

NOW = datetime.now(timezone.utc)


def claims(user="u-1", session="s-1", issued=NOW):
    return {"sub": user, "sid": session, "iat_ms": int(issued.timestamp() * 1000)}


def test_a_users_revocation_refuses_every_session_issued_up_to_it():
    book = Revocations()
    book.add({"user_id": "u-1", "session_id": None, "revoked_at": NOW.isoformat()})
    assert book.refuses(claims(session="s-1")) and book.refuses(claims(session="s-2"))
    assert book.refuses(claims(issued=NOW))  # issued at the same instant: refused
    assert not book.refuses(claims(issued=NOW + timedelta(milliseconds=1)))  # signed in again after
    assert not book.refuses(claims(user="u-2"))


def test_a_sessions_revocation_refuses_that_session_only():
    book = Revocations()
    book.add({"user_id": "u-1", "session_id": "s-1", "revoked_at": NOW})
    assert book.refuses(claims(session="s-1")) and not book.refuses(claims(session="s-2"))


def test_a_later_revocation_wins_and_old_ones_are_forgotten_on_load():
    book = Revocations()
    old = datetime.fromtimestamp(time.time() - REMEMBER_SECONDS - 10, timezone.utc)
    book.load([{"user_id": "u-9", "session_id": None, "revoked_at": old},
               {"user_id": "u-1", "session_id": None, "revoked_at": NOW - timedelta(seconds=5)},
               {"user_id": "u-1", "session_id": None, "revoked_at": NOW}])
    assert book.loaded and "u-9" not in book.users
    assert book.refuses(claims(issued=NOW - timedelta(seconds=1)))
