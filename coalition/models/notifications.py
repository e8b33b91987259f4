"""Notifications: in-app messages, email and webhook deliveries, preferences and
auto-approval rules.

Every channel has a unique key per (event, recipient): `notifications (event_id, user_id)`,
`email_deliveries (event_id, user_id)` and `webhook_deliveries (event_id, webhook_id)`. A
handler that runs twice for the same event inserts nothing the second time, so nothing is
sent twice.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
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
from coalition.models.catalog import Category, Kind
from coalition.models.organizations import Organization
from coalition.models.users import User


class DeliveryState(enum.StrEnum):
    """pending → sending → sent | retry → … | failed; `interrupted` when a worker died
    mid-send (never re-sent automatically: the other side may have received it)."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    # never sent, on purpose: a proposal email whose proposal was gone, or folded into another
    DROPPED = "dropped"

    @property
    def label(self) -> str:
        """Human label."""
        return self.value


DUE_STATES = (DeliveryState.PENDING, DeliveryState.RETRY)


class Notification(Model):
    """An in-app message for one person about one event."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("event_id", "user_id", name="uq_notifications_event_user"),
        Index("ix_notifications_user_unread", "user_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    event_id: Mapped[str] = mapped_column(String(36))
    event_type: Mapped[str] = mapped_column(String(60))
    match_id: Mapped[int | None] = mapped_column(ForeignKey("matches.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()


class NotificationPreference(Model):
    """A person's choice to receive, or not, the email for one event type."""

    __tablename__ = "notification_preferences"
    __table_args__ = (
        UniqueConstraint("user_id", "event_type", name="uq_notification_preferences_user_type"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    event_type: Mapped[str] = mapped_column(String(60))
    email: Mapped[bool] = mapped_column(default=True)


class EmailDelivery(TimestampMixin, Model):
    """One email, written in the transaction that asks for it and sent by the worker after
    commit: a match notification (`event_id` is the event's), or an invitation, a password
    reset or a digest confirmation (`event_id` is a fresh uuid, `user_id` may be empty)."""

    __tablename__ = "email_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "user_id", name="uq_email_deliveries_event_user"),
        Index("ix_email_deliveries_due", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36))
    event_type: Mapped[str] = mapped_column(String(60))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    match_id: Mapped[int | None] = mapped_column(ForeignKey("matches.id"))
    to_address: Mapped[str] = mapped_column(String(254))
    # the whole message, built when the event is handled: a retry sends exactly the same
    subject: Mapped[str] = mapped_column(String(300))
    message: Mapped[str] = mapped_column(Text)
    # a reset or invitation link is stored without its token: {"purpose", "payload"} of the
    # signed token the worker puts in place of coalition.services.mail.TOKEN_PLACEHOLDER
    link_token: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    state: Mapped[DeliveryState] = mapped_column(
        enum_column(DeliveryState, "delivery_state"), default=DeliveryState.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str] = mapped_column(Text, default="")

    user: Mapped[User | None] = relationship()


class Webhook(TimestampMixin, Model):
    """Where an organization wants match events POSTed, and the secret that signs them."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), unique=True)
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(128))
    active: Mapped[bool] = mapped_column(default=True)

    organization: Mapped[Organization] = relationship()


class WebhookDelivery(TimestampMixin, Model):
    """One event POSTed (or to be POSTed) to one webhook, with its attempts."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "webhook_id", name="uq_webhook_deliveries_event_webhook"),
        Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id"), index=True)
    event_id: Mapped[str] = mapped_column(String(36))
    event_type: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[DeliveryState] = mapped_column(
        enum_column(DeliveryState, "delivery_state"), default=DeliveryState.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    response_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str] = mapped_column(Text, default="")
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    webhook: Mapped[Webhook] = relationship()


class AutoApprovalRule(TimestampMixin, Model):
    """Proposals of this kind (and category) up to a quantity, between two active
    organizations, are approved without a coordinator."""

    __tablename__ = "auto_approval_rules"
    __table_args__ = (CheckConstraint("max_quantity > 0", name="max_quantity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[Kind] = mapped_column(enum_column(Kind, "listing_kind"))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    max_quantity: Mapped[int] = mapped_column(Integer)
    enabled: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    category: Mapped[Category | None] = relationship()

    def describe(self) -> str:
        """One line a coordinator reads, e.g. "supply: naloxone-nasal-4mg up to 50"."""
        what = self.category.plain_label if self.category else f"any {self.kind.value}"
        return f"{what}, up to {self.max_quantity}, between two active organizations"
