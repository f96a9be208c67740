"""AIR's tables: the documents (the source of truth the search index is built from), the access read model fed
by billing's events, and the messaging tables."""
from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Date, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.billing.access import access_table
from services.shared.database import UtcDateTime, messaging_tables


class Base(DeclarativeBase):
    pass


OutboxMessage, ProcessedEvent = messaging_tables(Base)
Access = access_table(Base)  # billing's entitlements as far as AIR needs them


class Document(Base):
    """One technical document in its newest version. `revision` grows with every change in the library: the
    search index keeps the highest revision it holds and catches up from there."""
    __tablename__ = "documents"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    type: Mapped[str] = mapped_column(String(32), index=True)
    title: Mapped[str] = mapped_column(String(300))
    system: Mapped[str] = mapped_column(String(4))
    language: Mapped[str] = mapped_column(String(2))
    version: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[date] = mapped_column(Date)
    codes: Mapped[list] = mapped_column(JSON)  # fault codes the document describes
    applicability: Mapped[dict] = mapped_column(JSON)  # series, model_codes, engine_codes, produced_from/until
    body: Mapped[dict] = mapped_column(JSON)  # summary, steps, data, tools, notes
    binaries: Mapped[list] = mapped_column(JSON)  # [{name, title, media_type, size, sha256}]
    package: Mapped[str] = mapped_column(String(120))  # the content package it came in, name@version
    revision: Mapped[int] = mapped_column(BigInteger, unique=True)
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime())
    withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)  # taken back: a tombstone
