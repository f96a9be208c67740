"""The parts service's infrastructure providers: the Shelf (the catalogue version this process reads, with its
search index built, following the active one as imports switch it) and a small cache of what other services
answer (a car's build data, a workshop's country)."""
import logging
import shutil
import time
from dataclasses import dataclass

import eventlet
from eventlet import tpool
from nameko.extensions import DependencyProvider
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from services.parts import domain, exports, search
from services.parts.models import Catalogue, Illustration, Part, PartRevision, Row, Supersession
from services.parts.settings import PartsSettings
from services.shared.config import of_container, setting
from services.shared.database import make_engine

log = logging.getLogger(__name__)
BATCH = 5000


@dataclass
class Loaded:
    """One catalogue version as a process reads it: what every request needs of it at hand (its series, where a
    VIN names the model, the supersessions, the option codes its rows ask for) and its search index."""
    id: str
    name: str
    version: str
    series: dict
    vin_model: list
    superseded_by: dict  # old -> (new, interchangeability)
    replaced: dict  # new -> [old]: what led to a number
    options: tuple
    index: object


def index_catalogue(index, Session, catalogue_id, progress=None):
    """Every row of a catalogue version into `index` (empty), in batches; returns how many."""
    done, since = 0, 0
    while True:
        with Session() as session:
            found = session.execute(
                select(Row, Part, Illustration)
                .join(Part, (Part.catalogue_id == Row.catalogue_id) & (Part.number == Row.number))
                .join(Illustration, (Illustration.catalogue_id == Row.catalogue_id)
                      & (Illustration.id == Row.illustration))
                .where(Row.catalogue_id == catalogue_id, Row.id > since).order_by(Row.id).limit(BATCH)).all()
        if not found:
            index.refresh()
            return done
        index.upsert([search.entry(row, part, illustration) for row, part, illustration in found])
        since, done = found[-1][0].id, done + len(found)
        if progress:
            progress(done)
        eventlet.sleep(0)  # let readers of the catalogue before through between batches


def load(settings, Session, catalogue):
    """A catalogue version made ready to read: its index built (or found complete) and its maps in memory."""
    index = search.for_catalogue(settings, catalogue.id)
    if index.count() != catalogue.rows:
        if index.count():
            index.close()
            drop_index(settings, catalogue.id)
            index = search.for_catalogue(settings, catalogue.id)
        started = time.monotonic()
        indexed = index_catalogue(index, Session, catalogue.id)
        log.info("parts catalogue %s %s: %d rows indexed in %.1f s", catalogue.name, catalogue.version, indexed,
                 time.monotonic() - started)
    with Session() as session:
        superseded_by = {s.old: (s.new, s.interchangeability) for s in session.scalars(
            select(Supersession).where(Supersession.catalogue_id == catalogue.id))}
    return Loaded(catalogue.id, catalogue.name, catalogue.version, catalogue.series, catalogue.vin_model,
                  superseded_by, domain.replaced(superseded_by), tuple(catalogue.options), OffTheHub(index) if settings.engine == "tantivy" else index)


def drop_index(settings, catalogue_id):
    if settings.engine == "tantivy":
        shutil.rmtree(settings.index_path(catalogue_id), ignore_errors=True)
    else:
        search.for_catalogue(settings, catalogue_id).drop()


class Shelf(DependencyProvider):
    """The catalogue version this process reads. At start it loads the active one; every AOS_PARTS_SYNC_SECONDS it
    looks again and, when an import has made another active, builds that one's index beside the one in use and
    then switches, in one assignment: a request reads the version it started with to its end."""

    def setup(self):
        self.settings = of_container(self.container, PartsSettings)
        self.engine = make_engine(setting(self.container.config, "DATABASE_URLS")[self.container.service_name])
        self.Session = sessionmaker(self.engine)
        self.current = None
        self._running = False

    def start(self):
        self.catch_up()
        self._running = True
        self.container.spawn_managed_thread(self._follow)

    def catch_up(self):
        with self.Session() as session:
            active = session.scalar(select(Catalogue).where(Catalogue.active.is_(True)))
            kept = set(session.scalars(select(Catalogue.id)).all())
        if active is None or (self.current is not None and self.current.id == active.id):
            return False
        self._revisions_of(active)
        before, self.current = self.current, load(self.settings, self.Session, active)
        log.info("reading parts catalogue %s %s", active.name, active.version)
        if before is not None and before.id not in kept:  # dropped by an import since: its index goes too
            before.index.close()
            drop_index(self.settings, before.id)
        return True

    def _revisions_of(self, active):
        """A catalogue imported before partners' mirrors were: its parts' first revisions, once (a replica that
        loses the race finds them made)."""
        try:
            with self.Session() as session, session.begin():
                if session.scalar(select(PartRevision.number).limit(1)) is None:
                    exports.revise(session, active.id)
        except IntegrityError:
            log.info("another replica gave the parts their first revisions")

    def _follow(self):
        while self._running:
            eventlet.sleep(self.settings.sync_seconds)
            try:
                self.catch_up()
            except Exception:  # the next round tries again; readers go on with the version they have
                log.exception("following the parts catalogue failed")

    def stop(self):
        self._running = False
        if self.current is not None:
            self.current.index.close()
        self.engine.dispose()

    kill = stop

    def get_dependency(self, worker_ctx):
        return self.current


class OffTheHub:
    """The index's searches in eventlet's OS thread pool: tantivy releases the GIL while it searches (AIR's)."""

    def __init__(self, index):
        self.index = index

    def search(self, *args, **kwargs):
        return tpool.execute(self.index.search, *args, **kwargs)

    def count(self):
        return self.index.count()

    def close(self):
        self.index.close()


class Remembered(DependencyProvider):
    """Answers of other services kept for `seconds`: a car's build data does not change under a catalogue visit,
    nor a workshop's country."""

    def __init__(self, seconds=300, size=10000):
        self.seconds, self.size = seconds, size
        self.entries = {}

    def get_dependency(self, worker_ctx):
        return self

    def get(self, key, fetch):
        now = time.monotonic()
        found = self.entries.get(key)
        if found is not None and found[0] > now:
            return found[1]
        value = fetch()
        if len(self.entries) >= self.size:
            self.entries.clear()
        self.entries[key] = (now + self.seconds, value)
        return value
