"""The access read model kept in memory: a workshop's entitlements are read once and kept briefly, a fact this
process applies is seen as soon as it commits, and an entitlement still ends on its second."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import create_engine, delete
from sqlalchemy.orm import DeclarativeBase, Session

from services.billing.access import AccessBook, access_table


class Base(DeclarativeBase):
    pass


Access = access_table(Base)
NOW = datetime.now(timezone.utc)


class Work:
    """A unit of work as the Store gives one: the session, and what to do once it has committed."""

    def __init__(self, session):
        self.session, self.committed = session, []

    def after_commit(self, effect):
        self.committed.append(effect)

    def commit(self):
        self.session.commit()
        for effect in self.committed:
            effect()


def bought(book, session, entitlement, until, scopes=("air",)):
    work = Work(session)
    book.purchased(work, {"entitlement_id": entitlement, "operator_id": "op-1", "scopes": list(scopes),
                          "valid_from": NOW - timedelta(hours=1), "valid_until": until})
    return work


def test_a_purchase_is_seen_once_committed_and_the_kept_entitlements_still_end_on_time(monkeypatch):
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    book = AccessBook(Access)
    with Session(engine) as session:
        assert book.allows(session, "op-1", "air", None, NOW) is False  # read and kept: none yet
        work = bought(book, session, "e-1", NOW + timedelta(seconds=30))
        session.flush()
        assert book.allows(session, "op-1", "air", None, NOW) is False  # not committed: still the kept answer
        work.commit()
        assert book.allows(session, "op-1", "air", None, NOW) is True  # committed: forgotten, read again
        assert book.allows(session, "op-1", "air", None, NOW + timedelta(seconds=31)) is False  # ends on time
        # a change this process did not apply (another replica's) is read within FRESH_SECONDS
        session.execute(delete(Access))
        session.commit()
        assert book.allows(session, "op-1", "air", None, NOW) is True
        monkeypatch.setattr(AccessBook, "FRESH_SECONDS", 0.0)
        assert book.allows(session, "op-1", "air", None, NOW) is False


def test_an_expiry_or_extension_forgets_what_was_kept():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    book = AccessBook(Access)
    with Session(engine) as session:
        bought(book, session, "e-1", NOW + timedelta(hours=1)).commit()
        assert book.allows(session, "op-1", "air", None, NOW)
        work = Work(session)
        book.expired(work, {"entitlement_id": "e-1", "expired_at": NOW})
        work.commit()
        assert not book.allows(session, "op-1", "air", None, NOW)
        work = Work(session)
        book.extended(work, {"extended": [{"entitlement_id": "e-1", "valid_until": NOW + timedelta(hours=2)}]})
        work.commit()
        assert book.allows(session, "op-1", "air", None, NOW)
