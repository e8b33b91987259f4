"""Listings (offers and requests, in one table) and their revision history."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql import ColumnElement

from coalition.extensions import Model
from coalition.models.base import TimestampMixin, UTCDateTime, enum_column, utcnow
from coalition.models.catalog import Category, Kind
from coalition.models.organizations import Organization
from coalition.models.users import User


class Direction(enum.StrEnum):
    """An offer gives; a request asks."""

    OFFER = "offer"
    REQUEST = "request"


class ListingStatus(enum.StrEnum):
    """Where a listing stands; withdrawn, fulfilled and expired are final."""

    OPEN = "open"
    PARTLY_MATCHED = "partly_matched"
    MATCHED = "matched"
    FULFILLED = "fulfilled"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"

    @property
    def label(self) -> str:
        """Human label."""
        return self.value.replace("_", " ")


ACTIVE_STATUSES = (ListingStatus.OPEN, ListingStatus.PARTLY_MATCHED)
CHANGEABLE_STATUSES = (ListingStatus.OPEN, ListingStatus.PARTLY_MATCHED, ListingStatus.MATCHED)


class Urgency(enum.StrEnum):
    """How soon a request must be met."""

    CRITICAL = "critical"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


class Visibility(enum.StrEnum):
    """Who besides the owning organization sees a listing."""

    COALITION = "coalition"
    COORDINATORS = "coordinators"


class Listing(TimestampMixin, Model):
    """An offer or a request of a supply (units) or of staff time (hours)."""

    __tablename__ = "listings"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("reserved >= 0 AND fulfilled >= 0", name="counts_not_negative"),
        CheckConstraint("reserved + fulfilled <= quantity", name="not_over_allocated"),
        Index("ix_listings_direction_status", "direction", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    direction: Mapped[Direction] = mapped_column(enum_column(Direction, "listing_direction"))
    kind: Mapped[Kind] = mapped_column(enum_column(Kind, "listing_kind"))
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    fulfilled: Mapped[int] = mapped_column(Integer, default=0)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    max_distance_km: Mapped[float] = mapped_column(Float)
    notes: Mapped[str] = mapped_column(Text, default="")
    visibility: Mapped[Visibility] = mapped_column(
        enum_column(Visibility, "listing_visibility"), default=Visibility.COALITION
    )
    status: Mapped[ListingStatus] = mapped_column(
        enum_column(ListingStatus, "listing_status"), default=ListingStatus.OPEN
    )
    # supply
    expires_on: Mapped[date | None] = mapped_column(Date)
    need_by: Mapped[date | None] = mapped_column(Date)
    urgency: Mapped[Urgency | None] = mapped_column(enum_column(Urgency, "listing_urgency"))
    accepts_expired: Mapped[bool] = mapped_column(default=False)
    # staffing
    credentials: Mapped[list[str]] = mapped_column(JSON, default=list)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    remote_ok: Mapped[bool] = mapped_column(default=False)
    windows: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)

    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)
    seen_version: Mapped[int] = mapped_column(Integer, default=0)

    organization: Mapped[Organization] = relationship()
    category: Mapped[Category] = relationship()
    created_by: Mapped[User | None] = relationship()

    @hybrid_property
    def available(self) -> int:
        """Quantity neither reserved by open matches nor already handed over."""
        return self.quantity - self.reserved - self.fulfilled

    @available.inplace.expression
    @classmethod
    def _available_expression(cls) -> ColumnElement[int]:
        """The same, in SQL."""
        return cls.quantity - cls.reserved - cls.fulfilled

    @property
    def is_offer(self) -> bool:
        """Whether this listing gives rather than asks."""
        return self.direction == Direction.OFFER

    @property
    def is_staffing(self) -> bool:
        """Whether this listing is about staff time."""
        return self.kind == Kind.STAFFING

    @property
    def is_changeable(self) -> bool:
        """Withdrawn, fulfilled and expired listings are history."""
        return self.status in CHANGEABLE_STATUSES

    @property
    def unit(self) -> str:
        """Units for supplies, hours for staffing (as the category names them)."""
        return self.category.unit

    def __repr__(self) -> str:
        return f"<Listing {self.direction} {self.id}>"


class ListingRevision(Model):
    """A snapshot of a listing after each change: edits and withdrawals never erase."""

    __tablename__ = "listing_revisions"
    __table_args__ = (UniqueConstraint("listing_id", "version", name="listing_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    changed_by: Mapped[str] = mapped_column(String(254), default="system")
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    action: Mapped[str] = mapped_column(String(40))
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)

    listing: Mapped[Listing] = relationship()
