"""The database provider: one engine per service, a unit of work per change, and the two tables that make
events safe: the outbox (facts committed with the change that caused them) and processed events (what a
consumer has already handled)."""
import json
import logging
import uuid
from contextlib import contextmanager, nullcontext
from datetime import datetime, timezone

from nameko.extensions import DependencyProvider
from sqlalchemy import DateTime, Index, String, Text, TypeDecorator, bindparam, create_engine, event, text
from sqlalchemy.orm import Mapped, mapped_column, sessionmaker
from sqlalchemy.pool import QueuePool

from services.shared.lease import Leases

from services.shared import events
from services.shared.config import setting
from services.shared.outbox import OutboxRelay

log = logging.getLogger(__name__)


def utcnow():
    return datetime.now(timezone.utc)


def new_id():
    """A row's id: a random UUID, as text."""
    return str(uuid.uuid4())


class UtcDateTime(TypeDecorator):
    """Timestamps stored in UTC and read back as aware datetimes, on SQLite (which keeps no zone) as on
    PostgreSQL."""
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime: AOS stores aware UTC times only")
            value = value.astimezone(timezone.utc)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


def messaging_tables(base):
    """The outbox and processed-event tables, declared on a service's own DeclarativeBase."""

    class OutboxMessage(base):
        __tablename__ = "outbox"
        __table_args__ = (Index("ix_outbox_unpublished", "published_at", "created_at"),)
        id: Mapped[str] = mapped_column(String(64), primary_key=True)
        event_type: Mapped[str] = mapped_column(String(64))
        body: Mapped[str] = mapped_column(Text)
        created_at: Mapped[datetime] = mapped_column(UtcDateTime())
        published_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)

    class ProcessedEvent(base):
        __tablename__ = "processed_events"
        id: Mapped[str] = mapped_column(String(64), primary_key=True)
        event_type: Mapped[str] = mapped_column(String(64))
        processed_at: Mapped[datetime] = mapped_column(UtcDateTime())

    return OutboxMessage, ProcessedEvent


def make_engine(url):
    if url.startswith("sqlite"):
        # One connection: SQLite has one writer, and a green thread that waits for the pool yields,
        # where one that waits on SQLite's busy lock would block every other green thread.
        engine = create_engine(url, poolclass=QueuePool, pool_size=1, max_overflow=0, pool_timeout=30)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()
        return engine
    if url.startswith("postgresql"):
        from psycogreen.eventlet import patch_psycopg
        patch_psycopg()  # psycopg2 waits cooperatively under eventlet
        # values_plus_batch: an UPDATE of many rows (the clock's timer settling 300 sessions, the outbox marking a
        # page) goes as a few batched statements, not one round trip per row
        return create_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True,
                             executemany_mode="values_plus_batch")
    raise ValueError(f"unsupported database URL {url!r}")


def insert_if_absent(session, model, **values):
    """INSERT ... ON CONFLICT DO NOTHING (SQLite and PostgreSQL say it alike): True when the row went in."""
    dialect = session.get_bind().dialect
    key = (dialect.name, model.__table__, tuple(values))
    if key not in _INSERTS:
        _INSERTS[key] = _insert_if_absent(dialect, *key[1:])
    return session.execute(_INSERTS[key], values).rowcount == 1


_INSERTS = {}  # (dialect name, table, columns) -> statement


def _insert_if_absent(dialect, table, columns):
    """Built once per table and columns, as text with typed parameters: every consumed event runs one
    (first_delivery), and the dialects' `insert().on_conflict_do_nothing()` has no cache key, so SQLAlchemy compiled
    it again each time (a sixth of the audit's CPU)."""
    quote = dialect.identifier_preparer.quote
    return text(f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
                f"VALUES ({', '.join(':' + c for c in columns)}) ON CONFLICT DO NOTHING").bindparams(
        *(bindparam(c, type_=table.c[c].type) for c in columns))


class UnitOfWork:
    """One transaction: the session, and `emit` to record an event that commits with it (one of the service's own
    `facts`: a service publishes no other's)."""

    def __init__(self, session, outbox_model, facts):
        self.session = session
        self._outbox_model = outbox_model
        self._facts = facts
        self.emitted = []
        self.committed = []  # what to do once the transaction has committed (metrics count committed facts only)

    def after_commit(self, effect):
        self.committed.append(effect)

    def emit(self, event_type, data, subject=None):
        if event_type not in self._facts:
            raise events.InvalidEvent(f"{event_type} is not a fact of this service")
        body = events.envelope(self._facts[event_type], data, subject=subject)
        self.session.add(self._outbox_model(
            id=body["id"], event_type=event_type, body=json.dumps(body), created_at=utcnow()))
        self.emitted.append(body)
        return body


class Store:
    """What a worker gets from the Database provider."""

    def __init__(self, sessionmaker, outbox_model, processed_model, on_commit, leases=None, facts=None):
        self._sessionmaker = sessionmaker
        self._facts = facts or {}
        self._outbox_model = outbox_model
        self._processed_model = processed_model
        self._on_commit = on_commit
        self._leases = leases

    def once(self, name):
        """The lease `name` among the service's replicas (services.shared.lease): True inside for the one that
        holds it."""
        return self._leases.held(name) if self._leases else nullcontext(True)

    @contextmanager
    def transaction(self):
        with self._sessionmaker() as session, session.begin():
            uow = UnitOfWork(session, self._outbox_model, self._facts)
            yield uow
        if uow.emitted:
            self._on_commit(uow.emitted)
        for effect in uow.committed:
            effect()

    @contextmanager
    def read(self):
        with self._sessionmaker() as session:
            yield session

    @contextmanager
    def first_delivery(self, event):
        """A transaction that runs only the first time `event` arrives; None on a redelivery.

        The processed-event row commits with the handler's changes, so a crash in between redoes both. It goes in
        first, in one statement that does nothing where the row is there already: of two deliveries racing each
        other, the second waits for the first to commit (PostgreSQL's unique index, SQLite's one writer) and then
        finds it there.
        """
        with self.transaction() as uow:
            first = insert_if_absent(uow.session, self._processed_model, id=event.id, event_type=event.type,
                                     processed_at=utcnow())
            if not first:
                log.info("event %s was handled before", event.id)
            yield uow if first else None

    @contextmanager
    def first_deliveries(self, batch):
        """One transaction for a batch of events: yields (uow, the events arriving for the first time, in order);
        the redelivered ones are left out. As first_delivery, each processed-event row commits with the changes."""
        with self.transaction() as uow:
            first = [event for event in batch if insert_if_absent(
                uow.session, self._processed_model, id=event.id, event_type=event.type, processed_at=utcnow())]
            yield uow, first

    def apply_once(self, event, effect):
        """`effect(uow, event.data)` in a transaction, the first time `event` arrives only."""
        with self.first_delivery(event) as uow:
            if uow is not None:
                effect(uow, event.data)

    def apply_each_once(self, batch, effect):
        """`effect(uow, event.data)` for each event of a batch arriving for the first time, in one transaction."""
        with self.first_deliveries(batch) as (uow, first):
            for event in first:
                effect(uow, event.data)


class Database(DependencyProvider):
    """Engine per service (built in setup), a Store per worker, and the outbox relay running beside it. `facts`:
    the service's own (its contracts.FACTS), the only ones its units of work emit."""

    def __init__(self, outbox_model, processed_model, facts=None):
        self.outbox_model = outbox_model
        self.processed_model = processed_model
        self.facts = facts or {}
        self.engine = None
        self.relay = None

    def setup(self):
        url = setting(self.container.config, "DATABASE_URLS")[self.container.service_name]
        self.engine = make_engine(url)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        self.leases = Leases(self.engine, self.container.service_name)
        self.relay = OutboxRelay(
            self.engine, self.outbox_model, self.container.config,
            poll_seconds=setting(self.container.config, "OUTBOX_POLL_SECONDS"), service=self.container.service_name,
            leases=self.leases)

    def start(self):
        self.relay.start(self.container.spawn_managed_thread)

    def stop(self):
        self.relay.stop()
        self.leases.close()  # another replica's next tick takes them, not one after this connection times out
        self.engine.dispose()

    kill = stop

    def get_dependency(self, worker_ctx):
        return Store(self.sessionmaker, self.outbox_model, self.processed_model, self.relay.committed, self.leases,
                     self.facts)
