"""Billing's tables."""
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.shared.database import UtcDateTime, messaging_tables


class Base(DeclarativeBase):
    pass


OutboxMessage, ProcessedEvent = messaging_tables(Base)


class Tariff(Base):
    """What can be bought. Platform staff change prices and switch tariffs off; a purchase keeps its own copy."""
    __tablename__ = "tariffs"
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))  # schemas.KINDS
    scopes: Mapped[list] = mapped_column(JSON)
    period: Mapped[str | None] = mapped_column(String(10), nullable=True)  # hour | day | week | month | year
    seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)  # programming time in a pack
    net_cents: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Buyer(Base):
    """The operators billing sells to: its read model of identity's OperatorRegistered."""
    __tablename__ = "buyers"
    operator_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    legal_name: Mapped[str] = mapped_column(String(200))
    legal_form: Mapped[str | None] = mapped_column(String(60), nullable=True)
    kind: Mapped[str] = mapped_column(String(20), default="workshop")  # identity's OPERATOR_KINDS
    country: Mapped[str] = mapped_column(String(2))
    vat_id: Mapped[str | None] = mapped_column(String(20), nullable=True)
    address: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    owner_email: Mapped[str | None] = mapped_column(String(254), nullable=True)  # UserJoined: where billing writes
    # a VAT id is taken for the reverse charge only once VIES confirmed it: status none (not asked yet), valid,
    # invalid or unavailable (asked again later); the consultation number goes on reverse-charge invoices
    vat_status: Mapped[str | None] = mapped_column(String(12), nullable=True)
    vat_consultation: Mapped[str | None] = mapped_column(String(40), nullable=True)
    vat_checked_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    vat_confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # pay on invoice: 0 until platform staff have verified the workshop and set how much it may owe
    invoice_limit_cents: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    invoice_limit_set_by: Mapped[str | None] = mapped_column(String(254), nullable=True)
    invoice_limit_set_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class Balance(Base):
    """Each ledger account's balance, kept with its postings in one transaction; operator accounts never go
    below zero (a conditional update, so racing purchases cannot overdraw)."""
    __tablename__ = "balances"
    account: Mapped[str] = mapped_column(String(120), primary_key=True)
    unit: Mapped[str] = mapped_column(String(10))
    amount: Mapped[int] = mapped_column(BigInteger, default=0)


class Journal(Base):
    """One movement of money or seconds: its postings sum to zero per unit."""
    __tablename__ = "journals"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    operator_id: Mapped[str | None] = mapped_column(String(64), index=True, nullable=True)
    kind: Mapped[str] = mapped_column(String(30))  # top_up | purchase | metering
    reference: Mapped[str] = mapped_column(String(64), unique=True)  # what it books: one journal per thing
    description: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Posting(Base):
    __tablename__ = "postings"
    __table_args__ = (Index("ix_postings_account", "account", "unit"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    journal_id: Mapped[str] = mapped_column(ForeignKey("journals.id"), index=True)
    account: Mapped[str] = mapped_column(String(120))
    unit: Mapped[str] = mapped_column(String(10))
    amount: Mapped[int] = mapped_column(BigInteger)


class TopUp(Base):
    __tablename__ = "top_ups"
    __table_args__ = (UniqueConstraint("operator_id", "idempotency_key"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    operator_id: Mapped[str] = mapped_column(String(64), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(100))
    fingerprint: Mapped[str] = mapped_column(String(64))
    amount_cents: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))  # pending | completed | declined
    payment_reference: Mapped[str | None] = mapped_column(String(100), nullable=True)
    decline_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Purchase(Base):
    __tablename__ = "purchases"
    __table_args__ = (UniqueConstraint("operator_id", "idempotency_key"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    operator_id: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str] = mapped_column(String(100))
    fingerprint: Mapped[str] = mapped_column(String(64))
    tariff_code: Mapped[str] = mapped_column(String(40))
    tariff_name: Mapped[str] = mapped_column(String(120))
    vin: Mapped[str | None] = mapped_column(String(17), nullable=True)
    quantity: Mapped[int] = mapped_column(Integer)
    net_cents: Mapped[int] = mapped_column(Integer)
    vat_cents: Mapped[int] = mapped_column(Integer)
    vat_rate: Mapped[str] = mapped_column(String(8))
    vat_treatment: Mapped[str] = mapped_column(String(20))
    gross_cents: Mapped[int] = mapped_column(Integer)
    paid_with: Mapped[str] = mapped_column(String(20))
    entitlement_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Entitlement(Base):
    """What an operator may use: a time window (access, VIN pass, licence) or a pack of programming seconds."""
    __tablename__ = "entitlements"
    __table_args__ = (Index("ix_entitlements_open_windows", "expired_at", "valid_until"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    operator_id: Mapped[str] = mapped_column(String(64), index=True)
    purchase_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(20))
    scopes: Mapped[list] = mapped_column(JSON)
    vin: Mapped[str | None] = mapped_column(String(17), nullable=True)
    seats: Mapped[int] = mapped_column(Integer, default=1)
    valid_from: Mapped[datetime] = mapped_column(UtcDateTime())
    valid_until: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sessions_left: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # a VIN pass's programming
    expired_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)  # AccessExpired published
    reminded_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)  # "ends in 24 h" mailed


class VinPassSession(Base):
    """A programming session paid by a VIN pass instead of programming seconds: claimed once per session."""
    __tablename__ = "vin_pass_sessions"
    session_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    entitlement_id: Mapped[str] = mapped_column(String(36), index=True)
    operator_id: Mapped[str] = mapped_column(String(64))
    vin: Mapped[str] = mapped_column(String(17))
    claimed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    returned_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)  # it failed on our side


class Credit(Base):
    """Time or money given back, and why (CreditIssued)."""
    __tablename__ = "credits"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    operator_id: Mapped[str] = mapped_column(String(64), index=True)
    reason: Mapped[str] = mapped_column(String(200))
    seconds: Mapped[int] = mapped_column(Integer, default=0)
    amount_cents: Mapped[int] = mapped_column(Integer, default=0)
    session_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Outage(Base):
    """An outage already compensated: the same one cannot extend windows twice."""
    __tablename__ = "outages"
    __table_args__ = (UniqueConstraint("started_at", "ended_at"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime] = mapped_column(UtcDateTime())
    credited_at: Mapped[datetime] = mapped_column(UtcDateTime())


class InvoiceSequence(Base):
    """The last invoice number of a year, advanced in the purchase's own transaction: a rolled-back purchase
    takes no number, so the numbers have no gaps."""
    __tablename__ = "invoice_sequences"
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Invoice(Base):
    __tablename__ = "invoices"
    __table_args__ = (UniqueConstraint("year", "sequence"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    year: Mapped[int] = mapped_column(Integer)
    sequence: Mapped[int] = mapped_column(Integer)
    operator_id: Mapped[str] = mapped_column(String(64), index=True)
    purchase_id: Mapped[str] = mapped_column(String(36), unique=True)  # the purchase or shop order billed
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime())
    seller: Mapped[dict] = mapped_column(JSON)
    buyer: Mapped[dict] = mapped_column(JSON)
    lines: Mapped[list] = mapped_column(JSON)
    net_cents: Mapped[int] = mapped_column(Integer)
    vat_cents: Mapped[int] = mapped_column(Integer)
    gross_cents: Mapped[int] = mapped_column(Integer)
    vat_rate: Mapped[str] = mapped_column(String(8))
    vat_treatment: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(String(300), nullable=True)
    pdf_key: Mapped[str | None] = mapped_column(String(200), nullable=True)  # set once the PDF is stored


class ShopPayment(Base):
    """What billing did about one shop order: captured from credit, refused, refunded after a cancellation, or
    void (cancelled before billing heard of the order: nothing may be taken for it)."""
    __tablename__ = "shop_payments"
    order_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    operator_id: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(10))  # captured | refused | refunded | void
    net_cents: Mapped[int] = mapped_column(Integer, default=0)
    gross_cents: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    user_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)  # who ordered: their budget
