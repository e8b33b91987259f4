"""Email digests: who subscribed to what, and each (recipient, period) send."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coalition.extensions import Model
from coalition.models.base import TimestampMixin, UTCDateTime, enum_column, utcnow
from coalition.models.organizations import Organization

if TYPE_CHECKING:
    from coalition.models.users import User

DEFAULT_TIMEZONE = "America/New_York"


class DigestFrequency(enum.StrEnum):
    """How often a digest goes out."""

    DAILY = "daily"
    WEEKLY = "weekly"


class DigestScope(enum.StrEnum):
    """Whose listings a digest covers."""

    OWN_ORG = "own_org"
    COALITION = "coalition"


class SendState(enum.StrEnum):
    """pending → sending → sent | pending (retry) | failed; or skipped_empty."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED_EMPTY = "skipped_empty"

    @property
    def label(self) -> str:
        """Human label."""
        return self.value.replace("_", " ")


class DigestSubscription(TimestampMixin, Model):
    """A person's digest settings: a user's own, or an email-only recipient's."""

    __tablename__ = "digest_subscriptions"
    __table_args__ = (
        CheckConstraint("user_id IS NOT NULL OR email IS NOT NULL", name="has_recipient"),
        CheckConstraint("hour >= 0 AND hour <= 23", name="hour_of_day"),
        CheckConstraint("weekday >= 0 AND weekday <= 6", name="day_of_week"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), unique=True)
    # email-only recipients (directors, board members) have no account
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirmation_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # an email-only recipient's language ('en', 'es'); a user's is their own setting
    locale: Mapped[str | None] = mapped_column(String(8))

    frequency: Mapped[DigestFrequency] = mapped_column(
        enum_column(DigestFrequency, "digest_frequency"), default=DigestFrequency.DAILY
    )
    weekday: Mapped[int] = mapped_column(Integer, default=0)  # Monday = 0, for weekly digests
    hour: Mapped[int] = mapped_column(Integer, default=8)
    timezone: Mapped[str] = mapped_column(String(64), default=DEFAULT_TIMEZONE)

    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty: every kind
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)  # slugs; empty: all
    max_distance_km: Mapped[float | None] = mapped_column(Float)
    scope: Mapped[DigestScope] = mapped_column(
        enum_column(DigestScope, "digest_scope"), default=DigestScope.COALITION
    )
    neutral_wording: Mapped[bool] = mapped_column(default=False)
    send_empty: Mapped[bool] = mapped_column(default=False)

    active: Mapped[bool] = mapped_column(default=True)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_period_end: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    organization: Mapped[Organization | None] = relationship()
    added_by: Mapped[User | None] = relationship(foreign_keys=[added_by_id])

    @property
    def is_email_only(self) -> bool:
        """A recipient without an account."""
        return self.user_id is None

    @property
    def address(self) -> str:
        """Where the digest goes."""
        return self.user.email if self.user is not None else (self.email or "")

    @property
    def display_name(self) -> str:
        """The recipient's name, for the greeting and the To header."""
        return self.user.name if self.user is not None else self.name

    @property
    def recipient_org(self) -> Organization | None:
        """The organization whose matches and stock the digest reports."""
        return self.user.organization if self.user is not None else self.organization

    @property
    def is_receiving(self) -> bool:
        """Active and confirmed."""
        return self.active and self.confirmed_at is not None

    def __repr__(self) -> str:
        return f"<DigestSubscription {self.id} {self.frequency}>"


class DigestSend(Model):
    """One digest for one subscription and one period: inserted once, claimed, sent once."""

    __tablename__ = "digest_sends"
    __table_args__ = (
        UniqueConstraint(
            "subscription_id", "period_key", name="uq_digest_sends_subscription_period"
        ),
        Index("ix_digest_sends_state_next", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("digest_subscriptions.id", ondelete="CASCADE"), index=True
    )
    period_key: Mapped[str] = mapped_column(String(16))  # '2026-11-26' or '2026-W48', local
    period_start: Mapped[datetime] = mapped_column(UTCDateTime())
    period_end: Mapped[datetime] = mapped_column(UTCDateTime())
    recipient: Mapped[str] = mapped_column(String(254), default="")
    state: Mapped[SendState] = mapped_column(
        enum_column(SendState, "digest_send_state"), default=SendState.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claim_token: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    message_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    subscription: Mapped[DigestSubscription] = relationship()

    def __repr__(self) -> str:
        return f"<DigestSend {self.subscription_id} {self.period_key} {self.state}>"
