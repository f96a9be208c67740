"""Identity's tables."""
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, false as sa_false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from services.shared.database import UtcDateTime, messaging_tables


class Base(DeclarativeBase):
    pass


OutboxMessage, ProcessedEvent = messaging_tables(Base)


class Operator(Base):
    """A workshop company: the independent operator of EU 2018/858."""
    __tablename__ = "operators"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    legal_name: Mapped[str] = mapped_column(String(200))
    legal_form: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(20), default="workshop")  # contracts.OPERATOR_KINDS
    country: Mapped[str] = mapped_column(String(2))
    vat_id: Mapped[str | None] = mapped_column(String(20), unique=True, nullable=True)
    street: Mapped[str] = mapped_column(String(200))
    postal_code: Mapped[str] = mapped_column(String(20))
    city: Mapped[str] = mapped_column(String(100))
    registered_at: Mapped[datetime] = mapped_column(UtcDateTime())
    users: Mapped[list["User"]] = relationship(back_populates="operator", order_by="User.created_at")


class User(Base):
    __tablename__ = "users"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    operator_id: Mapped[str] = mapped_column(ForeignKey("operators.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)  # None until an invitation is accepted
    invitation_hash: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    invitation_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    joined_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # what the owner allows this user to spend (an owner may always): buy tariffs and tools, pay on invoice
    may_buy: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    may_pay_on_invoice: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    monthly_budget_cents: Mapped[int | None] = mapped_column(Integer, nullable=True)  # none: no limit
    email_verified_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    verification_hash: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    verification_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    operator: Mapped[Operator] = relationship(back_populates="users")
    factor: Mapped["TotpFactor | None"] = relationship(back_populates="user", uselist=False)


class TotpFactor(Base):
    __tablename__ = "totp_factors"
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    last_used_step: Mapped[int] = mapped_column(Integer, default=0)  # a code's step is accepted once
    user: Mapped[User] = relationship(back_populates="factor")


class RecoveryCode(Base):
    __tablename__ = "recovery_codes"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class RefreshToken(Base):
    """One link of a rotating chain; `family_id` is the login session the chain belongs to."""
    __tablename__ = "refresh_tokens"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    family_id: Mapped[str] = mapped_column(String(36), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    auth_time: Mapped[datetime] = mapped_column(UtcDateTime())  # when password + factor were last proven
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    rotated_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class Revocation(Base):
    """Access tokens of a user (or of one login session) issued up to `revoked_at` no longer count: the gateway
    keeps these in memory from TokensRevoked and reads them back here when it starts."""
    __tablename__ = "revocations"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    operator_id: Mapped[str] = mapped_column(String(36))
    user_id: Mapped[str] = mapped_column(String(36), index=True)
    session_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    reason: Mapped[str] = mapped_column(String(20))
    revoked_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class ThrottleCounter(Base):
    """Sign-in attempts in the current window for one key: an account at an address, an address, a known device,
    or an account from anywhere. Taken by a conditional update before a password is checked, so concurrent
    guesses never get more checks than the limit allows."""
    __tablename__ = "throttle_counters"
    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    window_started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # an account's slowdown: attempts from unknown devices are answered 429 until then (domain.sign_in_wait)
    not_before: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class Device(Base):
    """A browser or app that completed a sign-in: its device token lets it past failures made elsewhere."""
    __tablename__ = "devices"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    first_seen_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Passkey(Base):
    """A WebAuthn credential of a user: the public key of a key that never leaves the user's device."""
    __tablename__ = "passkeys"
    id: Mapped[str] = mapped_column(String(400), primary_key=True)  # the credential id, base64url
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    public_key: Mapped[str] = mapped_column(String(2000))  # COSE, base64url
    sign_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class PasswordReset(Base):
    """A one-time link to choose a new password, mailed to the user: 30 minutes, single use."""
    __tablename__ = "password_resets"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class SpentChallenge(Base):
    """A second-factor challenge that led to a sign-in: it works once."""
    __tablename__ = "spent_challenges"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the challenge's jti
    spent_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class SermiLink(Base):
    """A sign-in at the SERMI trust centre under way: what binds its answer to this user and this sign-in (the
    state, the nonce the ID token must carry, the PKCE verifier). Used once, within 10 minutes."""
    __tablename__ = "sermi_links"
    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    nonce: Mapped[str] = mapped_column(String(64))
    verifier: Mapped[str] = mapped_column(String(128))
    # the browser that started it: a hash of the secret in its cookie, which the trust centre's answer must bring
    browser_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class SermiAuthorisation(Base):
    """A technician's SERMI authorisation as the trust centre last confirmed it, and when they signed in there."""
    __tablename__ = "sermi_authorisations"
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    subject: Mapped[str] = mapped_column(String(255))  # the trust centre's `sub`
    cabuid: Mapped[str] = mapped_column(String(100))
    iouid: Mapped[dict] = mapped_column(JSON)
    ioeuid: Mapped[dict] = mapped_column(JSON)
    chain: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    authenticated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    linked_at: Mapped[datetime] = mapped_column(UtcDateTime())
    access_token: Mapped[str] = mapped_column(Text)  # asks the trust centre, at security work, if still authorised
