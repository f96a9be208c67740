"""One replica at a time: a named lease on the service's own database, for work every replica of a service is
able to do but only one should do at a time (a timer's tick, the outbox relay's scan of the table).

On PostgreSQL a session advisory lock (`pg_try_advisory_lock`) on one connection the replica keeps for its
leases. A lease once taken is kept from tick to tick, so a tick costs one round trip on that connection (that it
is still open: PostgreSQL keeps a session's advisory locks until the session ends), not a pooled checkout, a
ping, a lock and an unlock with their commits. A replica killed while it holds one loses its connection, and
PostgreSQL lets go of the lock at once, so the next tick of another replica takes it; nothing waits. A replica
that stops (`close`) lets go of its leases the same way. On SQLite (one machine) an exclusive `flock` on a file
beside the database for the length of the block, which the kernel releases when the process dies.

    with store.once("expire-windows") as mine:
        if mine:
            ...
"""
import fcntl
import hashlib
import logging
import os
import threading
from contextlib import contextmanager
from functools import wraps
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)


def lease_key(service, name):
    """A signed 64-bit key for PostgreSQL's advisory locks, the same in every replica."""
    return int.from_bytes(hashlib.sha256(f"{service}:{name}".encode()).digest()[:8], "big", signed=True)


class Leases:
    def __init__(self, engine, service):
        self.engine, self.service = engine, service
        self.sqlite = engine.url.get_backend_name() == "sqlite"
        self._inside = {}  # name -> lock: one green thread of this replica inside a lease's block at a time
        self._mine = set()  # the names whose advisory locks the lease connection holds
        self._connection = None
        self._wire = threading.Lock()  # one round trip at a time on the lease connection
        self._connect = None if self.sqlite else create_engine(
            engine.url, poolclass=NullPool, isolation_level="AUTOCOMMIT").connect

    @contextmanager
    def held(self, name):
        """True inside when this replica holds the lease `name` (and keeps it to the end of the block at least),
        False when another replica does, or another green thread of this one is inside the block."""
        inside = self._inside.setdefault(name, threading.Lock())
        if not inside.acquire(blocking=False):
            yield False
            return
        try:
            if self.sqlite:
                with self._file_lock(name) as mine:
                    yield mine
            else:
                yield self._hold(name)
        finally:
            inside.release()

    def close(self):
        """Let go of every lease this replica holds (its service stops): another replica's next tick takes them.
        Unlocked before the connection closes: the server ends a closed session a moment later, not at once."""
        with self._wire:
            if self._mine:
                try:
                    self._connection.exec_driver_sql("SELECT pg_advisory_unlock_all()")
                except DBAPIError:  # the connection is gone, and its locks with it
                    pass
            self._drop()

    def _hold(self, name):
        with self._wire:
            try:
                return self._ask(name)
            except DBAPIError:  # the connection is gone, and with it every lock it held: once more on a new one
                log.warning("lease connection of %s lost; its leases %s are let go", self.service, sorted(self._mine))
                self._drop()
                return self._ask(name)

    def _ask(self, name):
        if self._connection is None:
            self._connection = self._connect()
        if name in self._mine:
            self._connection.exec_driver_sql("SELECT 1")
            return True
        if self._connection.execute(text("SELECT pg_try_advisory_lock(:key)"),
                                    {"key": lease_key(self.service, name)}).scalar():
            self._mine.add(name)
            log.info("this replica of %s now holds the lease %r", self.service, name)
            return True
        return False

    def _drop(self):
        self._mine.clear()
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except DBAPIError:  # already gone
                pass

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
    """A timer's body run by one replica of the service at a time (the one that holds the lease); the others skip
    the tick. For a service class with `db` (services.shared.database.Database)."""
    def wrap(fn):
        @wraps(fn)
        def run(self, *args, **kwargs):
            with self.db.once(name) as mine:
                if mine:
                    return fn(self, *args, **kwargs)
            return None
        return run
    return wrap
