"""The parts catalogue's tables. Every row of the catalogue belongs to one imported version of it (`catalogue_id`):
a package is imported beside the catalogue workshops read, then made the active one in one transaction, so a reader
sees the old catalogue or the new one, never half of either. Beside them: the parts requests workshops sent to a
dealer, the access read model fed by billing's events, and the messaging tables."""
from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.billing.access import access_table
from services.shared.database import UtcDateTime, messaging_tables


class Base(DeclarativeBase):
    pass


OutboxMessage, ProcessedEvent = messaging_tables(Base)
Access = access_table(Base)  # billing's entitlements as far as the parts catalogue needs them


class Catalogue(Base):
    """An imported package: the one `active` is what workshops read."""
    __tablename__ = "catalogues"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    version: Mapped[str] = mapped_column(String(40))
    publisher: Mapped[str] = mapped_column(String(200))
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime())
    active: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    parts: Mapped[int] = mapped_column(Integer, default=0)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    series: Mapped[dict] = mapped_column(JSON)  # code -> {name, models}: what a VIN's model code belongs to
    options: Mapped[list] = mapped_column(JSON)  # every option code a row asks for
    vin_model: Mapped[list] = mapped_column(JSON)  # [first, last]: where (1-based) a VIN carries the model code


class Group(Base):
    """A main group (12 engine electrical system) or, with `parent`, a subgroup of one (12_13 ignition)."""
    __tablename__ = "groups"
    catalogue_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    id: Mapped[str] = mapped_column(String(20), primary_key=True)
    parent: Mapped[str | None] = mapped_column(String(20), nullable=True)
    name_en: Mapped[str] = mapped_column(String(200))
    name_de: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)


class Illustration(Base):
    """An exploded view of a subgroup: its drawing (an SVG in object storage, checked free of script and outside
    references at import) and its hotspots, one per callout number, in the drawing's own coordinates."""
    __tablename__ = "illustrations"
    catalogue_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    subgroup: Mapped[str] = mapped_column(String(20))
    series: Mapped[str] = mapped_column(String(6), index=True)  # drawn for one series, as the manufacturer does
    title_en: Mapped[str] = mapped_column(String(200))
    title_de: Mapped[str] = mapped_column(String(200))
    image_key: Mapped[str] = mapped_column(String(120))
    width: Mapped[float] = mapped_column(Float)
    height: Mapped[float] = mapped_column(Float)
    hotspots: Mapped[list] = mapped_column(JSON)  # [{callout, x, y}]
    position: Mapped[int] = mapped_column(Integer)


class Row(Base):
    """One callout of an illustration: the part, how many, and which cars it is for."""
    __tablename__ = "rows"
    __table_args__ = (Index("ix_rows_illustration", "catalogue_id", "illustration"),
                      Index("ix_rows_number", "catalogue_id", "number"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    catalogue_id: Mapped[str] = mapped_column(String(36))
    illustration: Mapped[str] = mapped_column(String(40))
    callout: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(11))
    quantity: Mapped[int] = mapped_column(Integer)
    validity: Mapped[dict] = mapped_column(JSON)  # series, models, engines, produced_from/until, with/without_options
    remark_en: Mapped[str | None] = mapped_column(Text, nullable=True)  # the manufacturer's own words, if any
    remark_de: Mapped[str | None] = mapped_column(Text, nullable=True)


class Part(Base):
    __tablename__ = "parts"
    catalogue_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    number: Mapped[str] = mapped_column(String(11), primary_key=True)
    name_en: Mapped[str] = mapped_column(String(200))
    name_de: Mapped[str] = mapped_column(String(200))
    weight_g: Mapped[int | None] = mapped_column(Integer, nullable=True)
    prices: Mapped[dict] = mapped_column(JSON)  # country -> net cents
    kit: Mapped[str | None] = mapped_column(String(11), nullable=True)  # sold only in this kit


class KitContent(Base):
    """What a kit (itself a part) holds."""
    __tablename__ = "kit_contents"
    catalogue_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kit: Mapped[str] = mapped_column(String(11), primary_key=True)
    number: Mapped[str] = mapped_column(String(11), primary_key=True)
    quantity: Mapped[int] = mapped_column(Integer)


class Supersession(Base):
    """An old number and the one that replaces it, and whether the two are interchangeable."""
    __tablename__ = "supersessions"
    catalogue_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    old: Mapped[str] = mapped_column(String(11), primary_key=True)
    new: Mapped[str] = mapped_column(String(11))
    interchangeability: Mapped[str] = mapped_column(String(10))


class PartsRequest(Base):
    """A parts list a workshop sent to a dealer (PartsRequested), priced when it was sent."""
    __tablename__ = "parts_requests"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    operator_id: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[str] = mapped_column(String(64))
    vin: Mapped[str] = mapped_column(String(17))
    job_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    note: Mapped[str] = mapped_column(Text)
    lines: Mapped[list] = mapped_column(JSON)
    net_cents: Mapped[int] = mapped_column(Integer)
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime())


class PartRevision(Base):
    """Where each part number stands for partners' mirrors (the parts export and change feed): every import that
    changes what a part's line says, or drops the part, gives it the next revision. Kept across catalogue versions:
    a cursor outlives the import it was given in."""
    __tablename__ = "part_revisions"
    number: Mapped[str] = mapped_column(String(11), primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, unique=True)
    digest: Mapped[str] = mapped_column(String(32))  # of the line as last exported
    series: Mapped[list] = mapped_column(JSON)  # the series its illustrations are drawn for
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)  # no longer in the catalogue: a tombstone
