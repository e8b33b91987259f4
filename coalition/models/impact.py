"""Impact: program and funder tags on listings, and the ledger of fulfilled matches as facts.

`impact_facts` holds one row per fulfilled match, written by the worker from
`match.fulfilled` (and by `flask reports rebuild-impact`), so the impact figures read one
narrow table with no joins. Three monthly rollups are recounted from the facts with them
(`impact_months`, `impact_month_orgs`, `impact_month_requests`): a period's whole months are
read from those, its first and last part-months from the facts. All are summaries: the
matches table stays the source of truth.
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
        Index("ix_impact_facts_category", "category_id", "received_on"),
        # medians: the middle receipts of a month, or of a period, read in order from an index
        # (covering the category and the boroughs, so a filtered scope's are read from it too)
        Index(
            "ix_impact_facts_month_hours",
            "month",
            "hours_to_receipt",
            "received_on",
            "category_id",
            "giver_borough",
            "receiver_borough",
        ),
        Index(
            "ix_impact_facts_hours",
            "hours_to_receipt",
            "received_on",
            "category_id",
            "giver_borough",
            "receiver_borough",
        ),
    )

    match_id: Mapped[int] = mapped_column(ForeignKey("matches.id"), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # the coalition's calendar day and month of the receipt (IMPACT_TIMEZONE)
    received_on: Mapped[date] = mapped_column(Date)
    month: Mapped[str] = mapped_column(String(7))
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    kind: Mapped[Kind] = mapped_column(enum_column(Kind, "listing_kind"))
    quantity: Mapped[int] = mapped_column(Integer)
    offer_id: Mapped[int] = mapped_column(ForeignKey("listings.id"), index=True)
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


class ImpactMonth(Model):
    """Transfers, quantity and short-dated units of a month, category and pair of boroughs."""

    __tablename__ = "impact_months"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), primary_key=True)
    giver_borough: Mapped[str] = mapped_column(String(80), primary_key=True)
    receiver_borough: Mapped[str] = mapped_column(String(80), primary_key=True)
    kind: Mapped[Kind] = mapped_column(enum_column(Kind, "listing_kind"))
    transfers: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)
    short_dated: Mapped[int] = mapped_column(Integer)


class ImpactMonthOrg(Model):
    """What an organization gave (side "gave") or received ("received") in a month."""

    __tablename__ = "impact_month_orgs"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    side: Mapped[str] = mapped_column(String(8), primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    transfers: Mapped[int] = mapped_column(Integer)
    units: Mapped[int] = mapped_column(Integer)
    hours: Mapped[int] = mapped_column(Integer)


class ImpactMonthRequest(Model):
    """A request filled in a month: whether on time (any receipt by its need-by date)."""

    __tablename__ = "impact_month_requests"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("listings.id"), primary_key=True)
    transfers: Mapped[int] = mapped_column(Integer)
    on_time: Mapped[bool] = mapped_column(default=False)
    has_need_by: Mapped[bool] = mapped_column(default=False)


class ImpactMonthOrgBorough(Model):
    """What an organization gave or received in a month, by its own borough and the other
    side's (a borough-filtered scope's organizations)."""

    __tablename__ = "impact_month_org_boroughs"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    side: Mapped[str] = mapped_column(String(8), primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    borough: Mapped[str] = mapped_column(String(80), primary_key=True)
    other_borough: Mapped[str] = mapped_column(String(80), primary_key=True)
    transfers: Mapped[int] = mapped_column(Integer)
    units: Mapped[int] = mapped_column(Integer)
    hours: Mapped[int] = mapped_column(Integer)


class ImpactMonthRequestBorough(Model):
    """A request filled in a month by a pair of boroughs (a borough-filtered scope's
    requests): whether on time by those receipts."""

    __tablename__ = "impact_month_request_boroughs"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("listings.id"), primary_key=True)
    giver_borough: Mapped[str] = mapped_column(String(80), primary_key=True)
    receiver_borough: Mapped[str] = mapped_column(String(80), primary_key=True)
    transfers: Mapped[int] = mapped_column(Integer)
    on_time: Mapped[bool] = mapped_column(default=False)
    has_need_by: Mapped[bool] = mapped_column(default=False)
