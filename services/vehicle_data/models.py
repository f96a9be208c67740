"""Vehicle data's tables: the registry (build data, ECUs), campaigns, service records in versions, and the
access read model fed by billing's events."""
from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.billing.access import access_table
from services.shared.database import UtcDateTime, messaging_tables


class Base(DeclarativeBase):
    pass


OutboxMessage, ProcessedEvent = messaging_tables(Base)


class Vehicle(Base):
    """Build data from the manufacturer's feed."""
    __tablename__ = "vehicles"
    vin: Mapped[str] = mapped_column(String(17), primary_key=True)
    series: Mapped[str] = mapped_column(String(10), index=True)
    model_code: Mapped[str] = mapped_column(String(10))
    engine_code: Mapped[str] = mapped_column(String(12))
    transmission: Mapped[str] = mapped_column(String(12))
    production_date: Mapped[date] = mapped_column(Date)
    paint: Mapped[str] = mapped_column(String(60))
    options: Mapped[list] = mapped_column(JSON)
    country: Mapped[str | None] = mapped_column(String(2), nullable=True)  # the market it was built for
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # grows with every import of the car: where partners' mirrors of the registry stand (a change feed's cursor)
    revision: Mapped[int] = mapped_column(BigInteger, index=True, default=0)


class Ecu(Base):
    """A control unit installed in a vehicle, as built or as last reported."""
    __tablename__ = "ecus"
    __table_args__ = (UniqueConstraint("vin", "address"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    vin: Mapped[str] = mapped_column(String(17), ForeignKey("vehicles.vin", ondelete="CASCADE"), index=True)
    address: Mapped[str] = mapped_column(String(8))  # diagnostic address, e.g. 0x12
    name: Mapped[str] = mapped_column(String(80))
    hardware_part_number: Mapped[str] = mapped_column(String(20))
    software_version: Mapped[str] = mapped_column(String(40))
    serial_number: Mapped[str | None] = mapped_column(String(40), nullable=True)  # known once a workshop read it


class Retrofit(Base):
    """An option a workshop fitted after the car was built: its order's next version (the manufacturer's feed
    replaces build data, never these). Coding follows the order with them (services.programming.coding)."""
    __tablename__ = "retrofits"
    __table_args__ = (UniqueConstraint("vin", "option"), UniqueConstraint("vin", "version"))
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    vin: Mapped[str] = mapped_column(String(17), index=True)
    option: Mapped[str] = mapped_column(String(10))
    version: Mapped[int] = mapped_column(Integer)  # the order's version it made: 1 for the first retrofit
    operator_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Campaign(Base):
    """A recall or service campaign: targeted by series, model codes and production dates, or by VIN list."""
    __tablename__ = "campaigns"
    code: Mapped[str] = mapped_column(String(20), primary_key=True)  # a record with this work code closes it
    kind: Mapped[str] = mapped_column(String(10))  # recall | service
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(2000))
    series: Mapped[list] = mapped_column(JSON)  # empty: any
    model_codes: Mapped[list] = mapped_column(JSON)  # empty: any
    produced_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    produced_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    vins: Mapped[list] = mapped_column(JSON)  # explicit targets, besides the rule above
    published_on: Mapped[date] = mapped_column(Date)


class ServiceRecord(Base):
    """One version of a service record. A correction is a new version of the same record_id; none is ever
    overwritten. `current` marks each record's newest version."""
    __tablename__ = "service_records"
    __table_args__ = (UniqueConstraint("record_id", "version"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(36), index=True)
    version: Mapped[int] = mapped_column(Integer)
    current: Mapped[bool] = mapped_column(Boolean, default=True)
    vin: Mapped[str] = mapped_column(String(17), index=True)
    operator_id: Mapped[str] = mapped_column(String(64))  # the workshop that did the work
    author_user_id: Mapped[str] = mapped_column(String(64))
    performed_on: Mapped[date] = mapped_column(Date)
    odometer_km: Mapped[int] = mapped_column(Integer)
    items: Mapped[list] = mapped_column(JSON)  # [{"code", "text"}]
    first_recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())  # the 14 days run from here
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())


Access = access_table(Base)  # billing's entitlements as far as vehicle data needs them


class Workshop(Base):
    """Identity's operators as far as a service history names them (OperatorRegistered)."""
    __tablename__ = "workshops"
    operator_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100), nullable=True)
    country: Mapped[str] = mapped_column(String(2))
