"""Stock on hand: every count, delivery, distribution and transfer of an organization's
supplies is one row of `stock_entries` (nothing is overwritten); `stock_forecasts` holds the
worker's latest forecast per organization and category.

A `count` sets the level: without a lot it is the whole category's level, with a lot (a lot
label and/or an expiry date) it is that lot's. Deliveries and transfers in add, transfers out
take away; `distributed` reports what went out to participants in a period (it informs the
forecast and does not change the level, which the next count sets).
"""

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
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coalition.extensions import Model
from coalition.models.base import UTCDateTime, enum_column, utcnow
from coalition.models.catalog import Category
from coalition.models.organizations import Organization


class EntryType(enum.StrEnum):
    """What a stock entry records."""

    COUNT = "count"
    DELIVERY = "delivery"
    DISTRIBUTED = "distributed"
    TRANSFER_IN = "transfer_in"
    TRANSFER_OUT = "transfer_out"


class StockFlag(enum.StrEnum):
    """Why an entry needs a second look ("" when it does not)."""

    NONE = ""
    NEGATIVE = "negative"
    JUMP = "jump"


class StockEntry(Model):
    """One count, delivery, distribution or transfer of one category (and maybe one lot)."""

    __tablename__ = "stock_entries"
    __table_args__ = (
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        UniqueConstraint("match_id", "entry_type", name="one_entry_per_match_side"),
        Index("ix_stock_entries_org_category", "organization_id", "category_id", "observed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    entry_type: Mapped[EntryType] = mapped_column(enum_column(EntryType, "stock_entry_type"))
    quantity: Mapped[int] = mapped_column(Integer)
    lot: Mapped[str] = mapped_column(String(60), default="")
    expires_on: Mapped[date | None] = mapped_column(Date)
    # when the count was taken (or the delivery arrived, or the period ended)
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # first day of the period a `distributed` entry covers
    period_start: Mapped[date | None] = mapped_column(Date)
    match_id: Mapped[int | None] = mapped_column(ForeignKey("matches.id"))
    # the category's level on hand once this entry is applied, and what the entry implied
    on_hand_after: Mapped[int] = mapped_column(Integer, default=0)
    flag: Mapped[StockFlag] = mapped_column(
        enum_column(StockFlag, "stock_flag"), default=StockFlag.NONE
    )
    source: Mapped[str] = mapped_column(String(20), default="web")
    note: Mapped[str] = mapped_column(String(300), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    organization: Mapped[Organization] = relationship()
    category: Mapped[Category] = relationship()

    @property
    def lot_key(self) -> tuple[str, date | None]:
        """The lot this entry is about; ("", None) is the category's unlabelled stock."""
        return (self.lot or "", self.expires_on)

    def __repr__(self) -> str:
        return f"<StockEntry {self.entry_type} {self.quantity}>"


class StockForecast(Model):
    """The worker's latest forecast of one organization's use of one category."""

    __tablename__ = "stock_forecasts"
    __table_args__ = (UniqueConstraint("organization_id", "category_id", name="one_per_pair"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    # units a day: the forecast and its band (None when the history says nothing yet)
    rate: Mapped[float | None] = mapped_column(Float)
    rate_low: Mapped[float | None] = mapped_column(Float)
    rate_high: Mapped[float | None] = mapped_column(Float)
    days_left: Mapped[float | None] = mapped_column(Float)
    days_low: Mapped[float | None] = mapped_column(Float)
    days_high: Mapped[float | None] = mapped_column(Float)
    runs_out_on: Mapped[date | None] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(20), default="none")
    history_days: Mapped[int] = mapped_column(Integer, default=0)
    # per lot: expiry, units, units projected to be unused at expiry
    lots: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    expiring_units: Mapped[int] = mapped_column(Integer, default=0)

    organization: Mapped[Organization] = relationship()
    category: Mapped[Category] = relationship()


class StockSetting(Model):
    """An organization's thresholds for one category: the lead time it needs to restock,
    and whether the forecast may suggest requests and offers on its behalf."""

    __tablename__ = "stock_settings"
    __table_args__ = (UniqueConstraint("organization_id", "category_id", name="one_setting"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    lead_days: Mapped[int] = mapped_column(Integer, default=14)
    suggest: Mapped[bool] = mapped_column(default=True)


class SuggestionState(enum.StrEnum):
    """active → withdrawn (the risk went away) | dismissed (by a member) | closed (the
    listing was withdrawn, fulfilled or expired by other means)."""

    ACTIVE = "active"
    WITHDRAWN = "withdrawn"
    DISMISSED = "dismissed"
    CLOSED = "closed"


class StockSuggestion(Model):
    """A request (running out) or an offer (expiring unused) the forecast posted on an
    organization's behalf, with the figures that triggered it."""

    __tablename__ = "stock_suggestions"
    __table_args__ = (
        Index("ix_stock_suggestions_pair", "organization_id", "category_id", "direction"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    direction: Mapped[str] = mapped_column(String(10))
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"), index=True)
    state: Mapped[SuggestionState] = mapped_column(
        enum_column(SuggestionState, "stock_suggestion_state"), default=SuggestionState.ACTIVE
    )
    # on hand, rate, days left and band, lead time, lot expiry, units: what triggered it
    figures: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    organization: Mapped[Organization] = relationship()
    category: Mapped[Category] = relationship()
