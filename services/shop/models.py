"""The shop's tables: the catalogue with its stock, and orders."""
from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, Integer, String, UniqueConstraint, false as sa_false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.shared.database import UtcDateTime, messaging_tables
from services.shop.domain import Order as OrderRules


class Base(DeclarativeBase):
    pass


OutboxMessage, ProcessedEvent = messaging_tables(Base)


class Product(Base):
    """A tool or interface on sale. `stock` is what can still be ordered: an order takes its units at once
    (the reservation) and gives them back if it is cancelled before shipping."""
    __tablename__ = "products"
    __table_args__ = (CheckConstraint("stock >= 0", name="stock_not_negative"),)
    sku: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(String(2000))
    technical_data: Mapped[dict] = mapped_column(JSON)
    needed_for: Mapped[list] = mapped_column(JSON)  # series codes or tasks, e.g. "programming"
    net_cents: Mapped[int] = mapped_column(Integer)
    stock: Mapped[int] = mapped_column(Integer)
    image_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # theft-relevant (keys, immobiliser and lock parts): sold only to a SERMI-authorised technician (Reg. 2021/1244)
    theft_relevant: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())


class Order(OrderRules, Base):
    """An order as stored; its rules are domain.Order's."""
    __tablename__ = "orders"
    __table_args__ = (UniqueConstraint("operator_id", "idempotency_key"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    operator_id: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str] = mapped_column(String(100))
    fingerprint: Mapped[str] = mapped_column(String(64))
    lines: Mapped[list] = mapped_column(JSON)  # [{"sku", "name", "quantity", "unit_net_cents"}]
    net_cents: Mapped[int] = mapped_column(Integer)
    payment_method: Mapped[str] = mapped_column(String(10), default="credit", server_default="credit")
    status: Mapped[str] = mapped_column(String(12), index=True)  # placed | paid | shipped | delivered | cancelled
    cancel_reason: Mapped[str | None] = mapped_column(String(20), nullable=True)
    paid_cents: Mapped[int | None] = mapped_column(Integer, nullable=True)  # gross, as billing charged it
    payment_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    tracking_reference: Mapped[str | None] = mapped_column(String(100), nullable=True)
    placed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
