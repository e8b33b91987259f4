"""Impact: program and funder tags on listings, and the ledger of fulfilled matches as facts.

`impact_facts` holds one row per fulfilled match, written by the worker from
`match.fulfilled` (and by `flask reports rebuild-impact`), so the impact figures read one
narrow table with no joins. It is a summary: the matches table stays the source of truth.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from coalition.extensions import Model
from coalition.models.base import UTCDateTime, enum_column
from coalition.models.catalog import Kind


class ListingTag(Model):
    """A program or funding source an organization tags its listing with."""

    __tablename__ = "listing_tags"
    __table_args__ = (Index("ix_listing_tags_org_tag", "organization_id", "tag"),)

    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(60), primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))


class ImpactFact(Model):
    """One fulfilled match, as the impact figures count it."""

    __tablename__ = "impact_facts"
    __table_args__ = (
        Index("ix_impact_facts_period", "received_on", "category_id", "quantity"),
        Index("ix_impact_facts_giver", "giver_id", "received_on"),
        Index("ix_impact_facts_receiver", "receiver_id", "received_on"),
    )

    match_id: Mapped[int] = mapped_column(ForeignKey("matches.id"), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # the coalition's calendar day and month of the receipt (IMPACT_TIMEZONE)
    received_on: Mapped[date] = mapped_column(Date)
    month: Mapped[str] = mapped_column(String(7))
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    kind: Mapped[Kind] = mapped_column(enum_column(Kind, "listing_kind"))
    quantity: Mapped[int] = mapped_column(Integer)
    offer_id: Mapped[int] = mapped_column(ForeignKey("listings.id"))
    request_id: Mapped[int] = mapped_column(ForeignKey("listings.id"), index=True)
    giver_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    receiver_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    giver_borough: Mapped[str] = mapped_column(String(80), default="")
    receiver_borough: Mapped[str] = mapped_column(String(80), default="")
    hours_to_receipt: Mapped[int] = mapped_column(Integer)
    need_by: Mapped[date | None] = mapped_column(Date)
    on_time: Mapped[bool] = mapped_column(default=False)
    # units whose lot was within SHORT_DATED_DAYS of expiry (and not expired) at hand-off
    short_dated: Mapped[int] = mapped_column(Integer, default=0)

    def __repr__(self) -> str:
        return f"<ImpactFact match={self.match_id} {self.quantity}>"
