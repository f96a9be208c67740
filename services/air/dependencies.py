"""AIR's infrastructure providers: the Library (the search index, kept in step with the documents table) and
the vehicle cache (vehicle data's describe, remembered for a while: build data does not change under a search)."""
import logging
import time

import eventlet
from eventlet import tpool
from nameko.extensions import DependencyProvider
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from services.air import search
from services.air.models import Document
from services.air.settings import AirSettings
from services.shared.config import of_container, setting
from services.shared.database import make_engine

log = logging.getLogger(__name__)
BATCH = 2000


def catch_up(index, Session, batch=BATCH, progress=None, since=None):
    """Index every document whose revision the index does not hold yet (a withdrawn one leaves it); returns how
    many. `since`: the revision this process reached before (the index's highest otherwise: a withdrawal leaves no
    entry to tell it was done, so it is done again, once, after a restart)."""
    done = 0
    since = index.revision() if since is None else since
    while True:
        with Session() as session:
            rows = session.scalars(select(Document).where(Document.revision > since)
                                   .order_by(Document.revision).limit(batch)).all()
        if not rows:
            return done
        index.upsert([search.entry(r) for r in rows if r.withdrawn_at is None])
        index.delete([r.id for r in rows if r.withdrawn_at is not None])
        index.refresh()
        since = rows[-1].revision
        index.reached = since
        done += len(rows)
        if progress:
            progress(len(rows))
        eventlet.sleep(0)  # let searches through between batches


class Library(DependencyProvider):
    """The SearchIndex adapter the configuration names, caught up with the documents table at start and then
    every AIR_SYNC_SECONDS (an import by the content CLI shows up within that)."""

    def setup(self):
        config = self.container.config
        settings = of_container(self.container, AirSettings)
        self.settings = settings.search
        self.interval = settings.sync_seconds
        self.engine = make_engine(setting(config, "DATABASE_URLS")[self.container.service_name])
        self.Session = sessionmaker(self.engine)
        self.index = search.from_settings(self.settings)
        self.queries = OffTheHub(self.index) if self.settings["engine"] == "tantivy" else self.index
        self._running = False

    def start(self):
        indexed = catch_up(self.index, self.Session)
        log.info("search index holds %d documents (%d indexed at start)", self.index.count(), indexed)
        self._running = True
        self.container.spawn_managed_thread(self._follow)

    def _follow(self):
        while self._running:
            eventlet.sleep(self.interval)
            try:
                indexed = catch_up(self.index, self.Session, since=self.index.reached)
                if indexed:
                    log.info("indexed %d changed documents", indexed)
            except Exception:  # the next round tries again; searches go on against what is indexed
                log.exception("catching up the search index failed")

    def stop(self):
        self._running = False
        self.index.close()
        self.engine.dispose()

    kill = stop

    def get_dependency(self, worker_ctx):
        return self.queries


class OffTheHub:
    """The index's queries in eventlet's OS thread pool: tantivy releases the GIL while it searches, so the engine
    works on another core while this process's green threads go on decoding and answering other requests."""

    def __init__(self, index):
        self.index = index

    def search(self, *args, **kwargs):
        return tpool.execute(self.index.search, *args, **kwargs)

    def suggest(self, *args, **kwargs):
        return tpool.execute(self.index.suggest, *args, **kwargs)

    def tree(self, *args, **kwargs):
        return tpool.execute(self.index.tree, *args, **kwargs)


class VehicleCache(DependencyProvider):
    """vehicle_data.describe answers, kept for `seconds`: a search filtered to the car on the lift asks once."""

    def __init__(self, seconds=300, size=10000):
        self.seconds, self.size = seconds, size
        self.entries = {}

    def get_dependency(self, worker_ctx):
        return self

    def get(self, vin, fetch):
        now = time.monotonic()
        found = self.entries.get(vin)
        if found is not None and found[0] > now:
            return found[1]
        value = fetch(vin)
        if len(self.entries) >= self.size:
            self.entries.clear()
        self.entries[vin] = (now + self.seconds, value)
        return value
