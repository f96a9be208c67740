"""In-memory stand-ins for the ports a service's use cases are given (cosmicpython's fakes at the edges): the
repository (a service's own tables in an in-memory SQLite, its units of work the real ones, what they publish
kept as the outbox would send it), the mailer, the object store, and the clock (a use case's `now` is given)."""
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import StaticPool

from services.shared.database import Store


class MemoryStore(Store):
    """A service's repository in memory: its tables made from its models (one connection, so every unit of work
    sees the others' commits), and `published`, the envelopes its committed units of work emitted, in order."""

    def __init__(self, base, outbox_model, processed_model, facts=None):
        engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
        base.metadata.create_all(engine)
        self.published = []
        super().__init__(sessionmaker(engine, expire_on_commit=False), outbox_model, processed_model,
                         self.published.extend, facts=facts)

    def facts(self, kind):
        return [body["data"] for body in self.published if body["type"] == kind]


class Mailbox:
    """The Mailer port: what would have gone to the relay once its unit of work committed."""

    def __init__(self):
        self.sent = []

    def send_later(self, uow, mail):
        uow.after_commit(lambda: self.sent.append(mail))

    def to(self, address):
        return [m for m in self.sent if m.to == address]


class Shelf:
    """The BlobStore port: objects by key in a dict, links that name the key."""

    def __init__(self):
        self.objects = {}

    def put(self, key, data, content_type):
        self.objects[key] = data

    def get(self, key):
        return self.objects[key]

    def signed_url(self, key, seconds, filename=None):
        return f"memory://{key}?expires={seconds}"
