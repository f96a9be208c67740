"""The audit trail's tables: entries chained per workshop, each chain's head, and signed checkpoints. Entries are
only ever added (and pruned past the retention under a checkpoint); nothing in the code updates one."""
from datetime import datetime

from sqlalchemy import JSON, Boolean, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.shared.database import UtcDateTime, messaging_tables


class Base(DeclarativeBase):
    pass


OutboxMessage, ProcessedEvent = messaging_tables(Base)


class Entry(Base):
    __tablename__ = "entries"
    __table_args__ = (UniqueConstraint("chain", "seq"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    chain: Mapped[str] = mapped_column(String(64), index=True)  # the workshop (operator id), or "platform"
    seq: Mapped[int] = mapped_column(Integer)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)  # each fact once
    kind: Mapped[str] = mapped_column(String(64), index=True)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())
    user_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    vin: Mapped[str | None] = mapped_column(String(17), nullable=True, index=True)
    summary: Mapped[str] = mapped_column(String(500))
    detail: Mapped[dict] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class Chain(Base):
    """A chain's head: the row a writer locks to append (one appender per chain at a time)."""
    __tablename__ = "chains"
    chain: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class Checkpoint(Base):
    """A chain's head at an instant, signed; `pruned` marks where the chain starts after older entries went."""
    __tablename__ = "checkpoints"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    chain: Mapped[str] = mapped_column(String(64), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    pruned: Mapped[bool] = mapped_column(Boolean, default=False)
    key_id: Mapped[str] = mapped_column(String(16))
    signature: Mapped[str] = mapped_column(Text)
