"""One replica at a time: a named lease on the service's own database, for work every replica of a service is
able to do but only one should do at a time (a timer's tick, the outbox relay's scan of the table).

On PostgreSQL a session advisory lock (`pg_try_advisory_lock`) on a connection of its own: a replica killed while
it holds one loses its connection, and PostgreSQL lets go of the lock at once, so the next tick of another
replica takes it; nothing waits. On SQLite (one machine) an exclusive `flock` on a file beside the database,
which the kernel releases when the process dies.

    with store.once("expire-windows") as mine:
        if mine:
            ...
"""
import fcntl
import hashlib
import logging
import os
from contextlib import contextmanager
from functools import wraps
from pathlib import Path

from sqlalchemy import text

log = logging.getLogger(__name__)


def lease_key(service, name):
    """A signed 64-bit key for PostgreSQL's advisory locks, the same in every replica."""
    return int.from_bytes(hashlib.sha256(f"{service}:{name}".encode()).digest()[:8], "big", signed=True)


class Leases:
    def __init__(self, engine, service):
        self.engine, self.service = engine, service
        self.sqlite = engine.url.get_backend_name() == "sqlite"

    @contextmanager
    def held(self, name):
        """True inside when this replica holds the lease `name` (and keeps it to the end of the block), False
        when another does."""
        if self.sqlite:
            with self._file_lock(name) as mine:
                yield mine
            return
        key = lease_key(self.service, name)
        with self.engine.connect() as connection:
            mine = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar()
            connection.commit()
            try:
                yield bool(mine)
            finally:
                if mine:
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                    connection.commit()

    @contextmanager
    def _file_lock(self, name):
        database = self.engine.url.database
        if not database or database == ":memory:":  # one process holds an in-memory database
            yield True
            return
        path = Path(f"{database}.{name}.lease")
        handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        finally:
            os.close(handle)


def one_replica(name):
    """A timer's body run by one replica of the service at a time (the one that gets the lease this tick); the
    others skip the tick. For a service class with `db` (services.shared.database.Database)."""
    def wrap(fn):
        @wraps(fn)
        def run(self, *args, **kwargs):
            with self.db.once(name) as mine:
                if mine:
                    return fn(self, *args, **kwargs)
            return None
        return run
    return wrap
