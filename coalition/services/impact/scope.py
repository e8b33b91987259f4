"""What to count (a `Scope`) and how labels read (a `Wording`), and the calendar they use."""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import GenericFunction

from coalition.models.impact import ImpactFact, ListingTag

# "Short-dated": the lot was this close to its expiry date when it was handed over.
SHORT_DATED_DAYS = 60
# The coalition's calendar: receipts are counted on this zone's days and months.
TIMEZONE = ZoneInfo("America/New_York")
GROUP_BYS = ("category", "month", "organization", "borough")
TAG_MAX = 60
OTHER_ORGS = "Other member organizations"
# open ends of a period, as months
FIRST_MONTH, LAST_MONTH = "0000-01", "9999-12"

# periods longer than this read the facts without the days' index
WIDE_DAYS = 92

F = ImpactFact


class unindexed(GenericFunction[Any]):  # noqa: N801 (an SQL function's name)
    """A column that SQLite's planner uses no index for (`+column`); the column elsewhere."""

    name = "unindexed"
    inherit_cache = True

    def __init__(self, column: Any) -> None:
        super().__init__(column, type_=column.type)


@compiles(unindexed)
def _plain(element: unindexed, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(unindexed, "sqlite")
def _unindexed(element: unindexed, compiler: Any, **kw: Any) -> str:
    return "+" + str(compiler.process(element.clauses, **kw))


@dataclass(frozen=True)
class Scope:
    """What to count: a period (inclusive days), and optionally one category, organization,
    borough or tag. `tag_org_id` limits a tag to one organization's listings."""

    start: date | None = None
    end: date | None = None
    category_id: int | None = None
    organization_id: int | None = None
    borough: str | None = None
    tag: str | None = None
    tag_org_id: int | None = None
    # or exact instants (the digest's windows): received at or after `since`, before `until`
    since: datetime | None = None
    until: datetime | None = None

    @property
    def period_only(self) -> bool:
        """Whether only days are asked for."""
        return self.rolled_up and not (self.category_id or self.borough)

    @property
    def rolled_up(self) -> bool:
        """Whether the monthly rollups can answer it: days, optionally a category or borough."""
        narrowed = (self.organization_id, self.tag)
        return not any(narrowed) and self.since is None and self.until is None

    def whole_months(self) -> tuple[str, str] | None:
        """The first and last months the period covers entirely ("YYYY-MM"), if any."""
        first = FIRST_MONTH if self.start is None else _month_from(self.start)
        last = LAST_MONTH if self.end is None else _month_to(self.end)
        return (first, last) if first <= last else None

    @property
    def wide(self) -> bool:
        """Whether the period spans more than a quarter (or is open)."""
        if self.start is None or self.end is None:
            return True
        return (self.end - self.start).days > WIDE_DAYS

    def conditions(self, scan: bool = False) -> list[sa.ColumnElement[bool]]:
        """The WHERE clauses on impact_facts; `scan` keeps the days' index out of the plan
        (reading most of the table in order is cheaper than looking each row up from it)."""
        where: list[sa.ColumnElement[bool]] = []
        day = unindexed(F.received_on) if scan else F.received_on
        if self.start:
            where.append(day >= self.start)
        if self.end:
            where.append(day <= self.end)
        if self.since:
            where.append(F.received_at >= self.since)
        if self.until:
            where.append(F.received_at < self.until)
        if self.category_id:
            where.append(F.category_id == self.category_id)
        if self.organization_id:
            where.append(
                sa.or_(F.giver_id == self.organization_id, F.receiver_id == self.organization_id)
            )
        if self.borough:
            where.append(
                sa.or_(F.giver_borough == self.borough, F.receiver_borough == self.borough)
            )
        if self.tag:
            where.append(self._tag_condition())
        return where

    def _tag_condition(self) -> sa.ColumnElement[bool]:
        """Matches whose offer or request carries the tag."""
        tagged = sa.select(ListingTag.listing_id).where(ListingTag.tag == self.tag)
        if self.tag_org_id is not None:
            tagged = tagged.where(ListingTag.organization_id == self.tag_org_id)
        return sa.or_(F.offer_id.in_(tagged), F.request_id.in_(tagged))


def _month_from(day: date) -> str:
    """The first month that starts on or after `day`."""
    if day.day == 1:
        return f"{day:%Y-%m}"
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return f"{year:04d}-{month:02d}"


def _month_to(day: date) -> str:
    """The last month that ends on or before `day`."""
    if day.day == monthrange(day.year, day.month)[1]:
        return f"{day:%Y-%m}"
    year, month = (day.year - 1, 12) if day.month == 1 else (day.year, day.month - 1)
    return f"{year:04d}-{month:02d}"


@dataclass(frozen=True)
class Wording:
    """How labels read: plain or neutral, and whose names may be shown."""

    neutral: bool = False
    # organizations named in breakdowns; None means every organization (coordinators)
    named_ids: frozenset[int] | None = frozenset()
