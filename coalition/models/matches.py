"""Matches: a proposed transfer of a quantity from one offer to one request."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coalition.extensions import Model
from coalition.models.base import TimestampMixin, UTCDateTime, enum_column
from coalition.models.listings import Listing
from coalition.models.users import User


class MatchState(enum.StrEnum):
    """proposed → approved | rejected; approved → accepted | declined;
    accepted → handed_off → fulfilled; any open state → cancelled | expired."""

    PROPOSED = "proposed"
    APPROVED = "approved"
    ACCEPTED = "accepted"
    HANDED_OFF = "handed_off"
    FULFILLED = "fulfilled"
    REJECTED = "rejected"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    EXPIRED = "expired"

    @property
    def label(self) -> str:
        """Human label."""
        return self.value.replace("_", " ")


OPEN_STATES = (
    MatchState.PROPOSED,
    MatchState.APPROVED,
    MatchState.ACCEPTED,
    MatchState.HANDED_OFF,
)
RELEASING_STATES = (
    MatchState.REJECTED,
    MatchState.DECLINED,
    MatchState.CANCELLED,
    MatchState.EXPIRED,
)


class MatchSource(enum.StrEnum):
    """Which part of the engine proposed the match."""

    GREEDY = "greedy"
    RESOLVE = "resolve"


class Match(TimestampMixin, Model):
    """A quantity of one offer proposed for one request, and what people did with it."""

    __tablename__ = "matches"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        Index("ix_matches_state_created", "state", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("listings.id"), index=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("listings.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    state: Mapped[MatchState] = mapped_column(
        enum_column(MatchState, "match_state"), default=MatchState.PROPOSED
    )
    source: Mapped[MatchSource] = mapped_column(
        enum_column(MatchSource, "match_source"), default=MatchSource.GREEDY
    )
    value_per_unit: Mapped[float] = mapped_column(Float)
    distance_km: Mapped[float] = mapped_column(Float, default=0.0)
    explanation: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    offer_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    request_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    handed_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    hold_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    closed_by: Mapped[str] = mapped_column(String(254), default="")
    # set on approval: from then on both organizations see each other's name and contacts
    shared_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    offer: Mapped[Listing] = relationship(foreign_keys=[offer_id])
    request: Mapped[Listing] = relationship(foreign_keys=[request_id])
    decided_by: Mapped[User | None] = relationship()

    @property
    def value(self) -> float:
        """The match's total value in the objective of MATCHING.md."""
        return self.value_per_unit * self.quantity

    @property
    def names_shared(self) -> bool:
        """Whether a coordinator approved it, so both sides may see who the other is."""
        return self.shared_at is not None

    @property
    def is_open(self) -> bool:
        """Still holding stock."""
        return self.state in OPEN_STATES

    def __repr__(self) -> str:
        return f"<Match {self.id} {self.state} {self.offer_id}->{self.request_id} x{self.quantity}>"


class ResolveRun(Model):
    """One global re-solve: when it ran, what it found, and whether it replaced proposals."""

    __tablename__ = "resolve_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(20), default="running")
    offers: Mapped[int] = mapped_column(Integer, default=0)
    requests: Mapped[int] = mapped_column(Integer, default=0)
    current_value: Mapped[float] = mapped_column(Float, default=0.0)
    optimal_value: Mapped[float] = mapped_column(Float, default=0.0)
    replaced: Mapped[bool] = mapped_column(default=False)
    cancelled: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    error: Mapped[str] = mapped_column(Text, default="")
