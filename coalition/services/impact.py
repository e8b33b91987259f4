"""Impact figures from the ledger of fulfilled matches (never from proposals).

One implementation for the pages, the API, the CSV and PDF reports, the CLI and the digest.
The worker keeps `impact_facts` (one narrow row per fulfilled match) from `match.fulfilled`;
`rebuild_facts` re-creates it from the matches table. Figures are a few grouped queries over
that table, filtered by a `Scope`; labels and wording are applied afterwards in Python, so a
coordinator's change of a unit cost or a label shows at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from coalition.models.catalog import Category, Kind
from coalition.models.impact import ImpactFact, ListingTag
from coalition.models.listings import Listing
from coalition.models.matches import Match, MatchState
from coalition.models.organizations import Organization
from coalition.sessions import Session

# "Short-dated": the lot was this close to its expiry date when it was handed over.
SHORT_DATED_DAYS = 60
# The coalition's calendar: receipts are counted on this zone's days and months.
TIMEZONE = ZoneInfo("America/New_York")
GROUP_BYS = ("category", "month", "organization", "borough")
TAG_MAX = 60
OTHER_ORGS = "Other member organizations"

F = ImpactFact


# ---------------------------------------------------------------- keeping the facts


def _ledger_query() -> sa.Select[*tuple[Any, ...]]:
    """Fulfilled matches with what a fact needs from their listings and organizations."""
    offer, request = aliased(Listing), aliased(Listing)
    giver, receiver = aliased(Organization), aliased(Organization)
    return (
        sa.select(
            Match.id.label("match_id"),
            Match.quantity,
            sa.func.coalesce(Match.received_at, Match.updated_at).label("received_at"),
            Match.handed_off_at,
            offer.id.label("offer_id"),
            offer.category_id,
            offer.kind,
            offer.expires_on,
            offer.organization_id.label("giver_id"),
            giver.borough.label("giver_borough"),
            request.id.label("request_id"),
            request.created_at.label("posted_at"),
            request.need_by,
            request.organization_id.label("receiver_id"),
            receiver.borough.label("receiver_borough"),
        )
        .join(offer, Match.offer_id == offer.id)
        .join(request, Match.request_id == request.id)
        .join(giver, offer.organization_id == giver.id)
        .join(receiver, request.organization_id == receiver.id)
        .where(Match.state == MatchState.FULFILLED)
    )


def _aware(value: datetime) -> datetime:
    """SQLite returns naive UTC from a coalesce() (no column type to convert it)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def fact_values(row: Any) -> dict[str, Any]:
    """The impact row of a fulfilled match, from `_ledger_query`."""
    received_at = _aware(row.received_at)
    local = received_at.astimezone(TIMEZONE)
    handed = _aware(row.handed_off_at or received_at).astimezone(TIMEZONE).date()
    posted = _aware(row.posted_at)
    return {
        "match_id": row.match_id,
        "received_at": received_at,
        "received_on": local.date(),
        "month": local.strftime("%Y-%m"),
        "category_id": row.category_id,
        "kind": row.kind,
        "quantity": row.quantity,
        "offer_id": row.offer_id,
        "request_id": row.request_id,
        "giver_id": row.giver_id,
        "receiver_id": row.receiver_id,
        "giver_borough": row.giver_borough or "",
        "receiver_borough": row.receiver_borough or "",
        "hours_to_receipt": max(0, int((received_at - posted).total_seconds() // 3600)),
        "need_by": row.need_by,
        "on_time": row.need_by is not None and local.date() <= row.need_by,
        "short_dated": row.quantity if is_short_dated(row.expires_on, handed) else 0,
    }


def is_short_dated(expires_on: date | None, handed_on: date) -> bool:
    """Whether a lot was within SHORT_DATED_DAYS of expiry, and not yet expired, at hand-off."""
    return expires_on is not None and 0 <= (expires_on - handed_on).days <= SHORT_DATED_DAYS


def record_fulfilled(session: Session, match_id: int) -> ImpactFact | None:
    """Write (or rewrite) the fact of a fulfilled match; nothing for any other state."""
    session.execute(sa.delete(ImpactFact).where(ImpactFact.match_id == match_id))
    row = session.execute(_ledger_query().where(Match.id == match_id)).one_or_none()
    if row is None:
        return None
    fact = ImpactFact(**fact_values(row))
    session.add(fact)
    session.flush()
    return fact


def fulfilled_count(session: Session) -> int:
    """How many matches are fulfilled (what a rebuild will write)."""
    query = sa.select(sa.func.count()).where(Match.state == MatchState.FULFILLED)
    return session.scalar(query) or 0


def rebuild_facts(
    session: Session, batch: int = 5000, progress: Callable[[int], None] | None = None
) -> int:
    """Re-create every fact from the fulfilled matches, in batches; returns how many."""
    session.execute(sa.delete(ImpactFact))
    written, last_id = 0, 0
    while True:
        query = _ledger_query().where(Match.id > last_id).order_by(Match.id).limit(batch)
        rows = session.execute(query).all()
        if not rows:
            return written
        session.execute(sa.insert(ImpactFact), [fact_values(r) for r in rows])
        written, last_id = written + len(rows), rows[-1].match_id
        if progress:
            progress(len(rows))


# ---------------------------------------------------------------- tags


def normalize_tag(tag: str) -> str:
    """Tags compare as typed, with surrounding and repeated spaces removed."""
    return " ".join(tag.split())[:TAG_MAX]


def listing_tags(session: Session, listing_id: int) -> list[str]:
    """A listing's tags, sorted."""
    query = sa.select(ListingTag.tag).where(ListingTag.listing_id == listing_id)
    return sorted(session.scalars(query))


def set_listing_tags(session: Session, listing: Listing, tags: Iterable[str]) -> list[str]:
    """Replace a listing's program and funder tags; flush, never commit."""
    wanted = sorted({t for t in (normalize_tag(t) for t in tags) if t})
    session.execute(sa.delete(ListingTag).where(ListingTag.listing_id == listing.id))
    session.add_all(
        ListingTag(listing_id=listing.id, tag=t, organization_id=listing.organization_id)
        for t in wanted
    )
    session.flush()
    return wanted


def organization_tags(session: Session, org_id: int | None) -> list[str]:
    """Tags an organization uses (every organization's, for coordinators: None)."""
    query = sa.select(ListingTag.tag).distinct().order_by(ListingTag.tag)
    if org_id is not None:
        query = query.where(ListingTag.organization_id == org_id)
    return list(session.scalars(query))


# ---------------------------------------------------------------- what to count


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

    def conditions(self) -> list[sa.ColumnElement[bool]]:
        """The WHERE clauses on impact_facts."""
        where: list[sa.ColumnElement[bool]] = []
        if self.start:
            where.append(F.received_on >= self.start)
        if self.end:
            where.append(F.received_on <= self.end)
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


@dataclass(frozen=True)
class Wording:
    """How labels read: plain or neutral, and whose names may be shown."""

    neutral: bool = False
    # organizations named in breakdowns; None means every organization (coordinators)
    named_ids: frozenset[int] | None = frozenset()


# ---------------------------------------------------------------- the figures


@dataclass
class CategoryFigure:
    """One category (or, in neutral wording, one neutral label) of a period."""

    key: str
    label: str
    kind: str
    unit: str
    quantity: int = 0
    transfers: int = 0
    value_cents: int = 0
    short_dated: int = 0
    gave: int = 0
    received: int = 0


@dataclass
class MonthFigure:
    """One month of the series."""

    month: str
    transfers: int = 0
    units: int = 0
    hours: int = 0
    value_cents: int = 0
    short_dated: int = 0
    givers: int = 0
    receivers: int = 0
    requests_filled: int = 0
    requests_on_time: int = 0
    median_days: float | None = None


@dataclass
class PlaceFigure:
    """What a borough (or an organization) gave and received."""

    name: str
    gave_transfers: int = 0
    gave_units: int = 0
    gave_hours: int = 0
    received_transfers: int = 0
    received_units: int = 0
    received_hours: int = 0


@dataclass
class Figures:
    """Every impact figure of a scope."""

    scope: Scope
    neutral: bool
    transfers: int = 0
    units: int = 0
    hours: int = 0
    value_cents: int = 0
    short_dated: int = 0
    givers: int = 0
    receivers: int = 0
    requests_filled: int = 0
    requests_on_time: int = 0
    requests_with_need_by: int = 0
    median_days: float | None = None
    categories: list[CategoryFigure] = field(default_factory=list)
    months: list[MonthFigure] = field(default_factory=list)
    boroughs: list[PlaceFigure] = field(default_factory=list)
    organizations: list[PlaceFigure] = field(default_factory=list)

    @property
    def supplies(self) -> list[CategoryFigure]:
        """Units shared by category."""
        return [c for c in self.categories if c.kind == Kind.SUPPLY.value]

    @property
    def staffing(self) -> list[CategoryFigure]:
        """Staff hours shared by role."""
        return [c for c in self.categories if c.kind == Kind.STAFFING.value]

    @property
    def supply_value_cents(self) -> int:
        """The estimated value of the supplies shared."""
        return sum(c.value_cents for c in self.supplies)

    @property
    def staff_value_cents(self) -> int:
        """The estimated value of the staff time shared."""
        return sum(c.value_cents for c in self.staffing)

    @property
    def value_dollars(self) -> int:
        """The estimated value, in whole dollars."""
        return round(self.value_cents / 100)


def compute(
    session: Session, scope: Scope, wording: Wording = Wording(), with_orgs: bool = False
) -> Figures:
    """Every figure of the scope, in the wording asked for."""
    categories = {c.id: c for c in session.scalars(sa.select(Category))}
    where = scope.conditions()
    figures = Figures(scope=scope, neutral=wording.neutral)
    months = _by_month_and_category(session, where, scope, categories, wording, figures)
    _add_people(session, where, figures, months)
    _add_median(session, where, figures, months)
    figures.months = [months[m] for m in sorted(months)]
    figures.boroughs = _boroughs(session, where)
    if with_orgs:
        figures.organizations = _organizations(session, where, wording)
    return figures


def _by_month_and_category(
    session: Session,
    where: list[Any],
    scope: Scope,
    categories: dict[int, Category],
    wording: Wording,
    figures: Figures,
) -> dict[str, MonthFigure]:
    """Totals, categories and the monthly series from one grouped query."""
    gave = (
        sa.func.sum(sa.case((F.giver_id == scope.organization_id, F.quantity), else_=0))
        if scope.organization_id
        else sa.literal(0)
    )
    rows = session.execute(
        sa.select(
            F.month, F.category_id, sa.func.count(), sa.func.sum(F.quantity),
            sa.func.sum(F.short_dated), gave,
        )
        .where(*where)
        .group_by(F.month, F.category_id)
    ).all()  # fmt: skip
    months: dict[str, MonthFigure] = {}
    by_key: dict[str, CategoryFigure] = {}
    for month, category_id, transfers, quantity, short, gave_q in rows:
        category = categories[category_id]
        value = int(quantity) * category.unit_cost_cents
        _add_category(by_key, category, wording.neutral, transfers, int(quantity), value)
        entry = by_key[_category_key(category, wording.neutral)]
        entry.short_dated += int(short or 0)
        entry.gave += int(gave_q or 0)
        _add_month(months.setdefault(month, MonthFigure(month)), category, transfers, quantity)
        months[month].value_cents += value
        months[month].short_dated += int(short or 0)
    for entry in by_key.values():
        entry.received = entry.quantity - entry.gave if scope.organization_id else 0
    figures.categories = sorted(by_key.values(), key=lambda c: (c.kind != "supply", -c.quantity))
    _add_totals(figures)
    return months


def _category_key(category: Category, neutral: bool) -> str:
    """Neutral wording merges categories that share a neutral label."""
    return f"{category.kind.value}:{category.neutral_label}" if neutral else category.slug


def _add_category(
    by_key: dict[str, CategoryFigure],
    category: Category,
    neutral: bool,
    transfers: int,
    quantity: int,
    value: int,
) -> None:
    """Add one (month, category) row to its category figure."""
    key = _category_key(category, neutral)
    if key not in by_key:
        by_key[key] = CategoryFigure(
            key=key,
            label=category.label(neutral),
            kind=category.kind.value,
            unit=neutral_unit(category) if neutral else category.unit,
        )
    entry = by_key[key]
    entry.quantity += quantity
    entry.transfers += transfers
    entry.value_cents += value


def neutral_unit(category: Category) -> str:
    """Neutral wording says only units or hours."""
    return "hours" if category.kind == Kind.STAFFING else "units"


def _add_month(month: MonthFigure, category: Category, transfers: int, quantity: int) -> None:
    """Add one (month, category) row to its month."""
    month.transfers += transfers
    if category.kind == Kind.STAFFING:
        month.hours += int(quantity)
    else:
        month.units += int(quantity)


def _add_totals(figures: Figures) -> None:
    """Period totals from the category figures."""
    for c in figures.categories:
        figures.transfers += c.transfers
        figures.value_cents += c.value_cents
        figures.short_dated += c.short_dated
        if c.kind == Kind.STAFFING.value:
            figures.hours += c.quantity
        else:
            figures.units += c.quantity


def _distinct_columns() -> list[Any]:
    """Organizations that gave and received, requests filled, on time and with a need-by."""
    return [
        sa.func.count(sa.distinct(F.giver_id)),
        sa.func.count(sa.distinct(F.receiver_id)),
        sa.func.count(sa.distinct(F.request_id)),
        sa.func.count(sa.distinct(sa.case((F.on_time.is_(True), F.request_id)))),
        sa.func.count(sa.distinct(sa.case((F.need_by.is_not(None), F.request_id)))),
    ]


def _add_people(
    session: Session, where: list[Any], figures: Figures, months: dict[str, MonthFigure]
) -> None:
    """Distinct organizations and requests, for the period and for each month."""
    total = session.execute(sa.select(*_distinct_columns()).where(*where)).one()
    (
        figures.givers,
        figures.receivers,
        figures.requests_filled,
        figures.requests_on_time,
        figures.requests_with_need_by,
    ) = (int(v) for v in total)
    rows = session.execute(
        sa.select(F.month, *_distinct_columns()).where(*where).group_by(F.month)
    ).all()
    for month, givers, receivers, filled, on_time, _with_need_by in rows:
        entry = months.setdefault(month, MonthFigure(month))
        entry.givers, entry.receivers = int(givers), int(receivers)
        entry.requests_filled, entry.requests_on_time = int(filled), int(on_time)


def _add_median(
    session: Session, where: list[Any], figures: Figures, months: dict[str, MonthFigure]
) -> None:
    """Median days from request posted to receipt, for the period and for each month."""
    figures.median_days = _medians(session, where, None).get("", None)
    for month, value in _medians(session, where, F.month).items():
        months.setdefault(month, MonthFigure(month)).median_days = value


def _medians(session: Session, where: list[Any], partition: Any) -> dict[str, float]:
    """The middle one or two hours-to-receipt of each partition (window functions), in days."""
    columns = [partition.label("key")] if partition is not None else []
    ranked = (
        sa.select(
            *columns,
            F.hours_to_receipt.label("hours"),
            sa.func.row_number()
            .over(partition_by=partition, order_by=F.hours_to_receipt)
            .label("rank"),
            sa.func.count().over(partition_by=partition).label("n"),
        )
        .where(*where)
        .subquery()
    )
    middle = ranked.c.rank.in_([(ranked.c.n + 1) // 2, (ranked.c.n + 2) // 2])
    if partition is None:
        hours = session.scalar(sa.select(sa.func.avg(ranked.c.hours)).where(middle))
        return {} if hours is None else {"": round(float(hours) / 24, 1)}
    query = sa.select(ranked.c.key, sa.func.avg(ranked.c.hours)).where(middle)
    rows = session.execute(query.group_by(ranked.c.key)).all()
    return {str(k): round(float(h) / 24, 1) for k, h in rows if h is not None}


def _boroughs(session: Session, where: list[Any]) -> list[PlaceFigure]:
    """What each borough's organizations gave and received."""
    places: dict[str, PlaceFigure] = {}
    for side, column in (("gave", F.giver_borough), ("received", F.receiver_borough)):
        for name, transfers, units, hours in _side_totals(session, where, column):
            _add_place(places.setdefault(name or "—", PlaceFigure(name or "—")), side,
                       transfers, units, hours)  # fmt: skip
    return sorted(places.values(), key=lambda p: p.name)


def _side_totals(session: Session, where: list[Any], column: Any) -> list[Any]:
    """Transfers, units and hours grouped by one side's borough or organization."""
    units = sa.func.sum(sa.case((F.kind == Kind.SUPPLY, F.quantity), else_=0))
    hours = sa.func.sum(sa.case((F.kind == Kind.STAFFING, F.quantity), else_=0))
    query = sa.select(column, sa.func.count(), units, hours).where(*where).group_by(column)
    return list(session.execute(query).all())


def _add_place(place: PlaceFigure, side: str, transfers: int, units: int, hours: int) -> None:
    """Add one side's totals to a place."""
    setattr(place, f"{side}_transfers", getattr(place, f"{side}_transfers") + int(transfers))
    setattr(place, f"{side}_units", getattr(place, f"{side}_units") + int(units or 0))
    setattr(place, f"{side}_hours", getattr(place, f"{side}_hours") + int(hours or 0))


def _organizations(session: Session, where: list[Any], wording: Wording) -> list[PlaceFigure]:
    """What each organization gave and received; unnamed ones are summed into one row."""
    names = dict(session.execute(sa.select(Organization.id, Organization.name)).all())
    places: dict[str, PlaceFigure] = {}
    for side, column in (("gave", F.giver_id), ("received", F.receiver_id)):
        for org_id, transfers, units, hours in _side_totals(session, where, column):
            named = wording.named_ids is None or org_id in wording.named_ids
            name = names.get(org_id, "?") if named else OTHER_ORGS
            _add_place(places.setdefault(name, PlaceFigure(name)), side, transfers, units, hours)
    return sorted(places.values(), key=lambda p: (p.name == OTHER_ORGS, p.name))


# ---------------------------------------------------------------- the underlying transfers


TRANSFER_COLUMNS = (
    "match",
    "received_on",
    "category",
    "kind",
    "quantity",
    "unit",
    "value_usd",
    "short_dated",
    "giver",
    "giver_borough",
    "receiver",
    "receiver_borough",
    "days_to_receipt",
    "need_by",
    "on_time",
)


def transfers(session: Session, scope: Scope, wording: Wording) -> Iterator[dict[str, Any]]:
    """Every fulfilled match of the scope, oldest first, in the wording asked for."""
    categories = {c.id: c for c in session.scalars(sa.select(Category))}
    names = dict(session.execute(sa.select(Organization.id, Organization.name)).all())
    query = sa.select(F).where(*scope.conditions()).order_by(F.received_at, F.match_id)
    for fact in session.scalars(query.execution_options(yield_per=1000)):
        yield _transfer_row(fact, categories[fact.category_id], names, wording)


def _transfer_row(
    fact: ImpactFact, category: Category, names: dict[int, str], wording: Wording
) -> dict[str, Any]:
    """One transfer as a CSV row."""

    def who(org_id: int) -> str:
        named = wording.named_ids is None or org_id in wording.named_ids
        return names.get(org_id, "?") if named else "A member organization"

    return {
        "match": fact.match_id,
        "received_on": fact.received_on.isoformat(),
        "category": category.label(wording.neutral),
        "kind": fact.kind.value,
        "quantity": fact.quantity,
        "unit": neutral_unit(category) if wording.neutral else category.unit,
        "value_usd": f"{fact.quantity * category.unit_cost_cents / 100:.2f}",
        "short_dated": fact.short_dated,
        "giver": who(fact.giver_id),
        "giver_borough": fact.giver_borough,
        "receiver": who(fact.receiver_id),
        "receiver_borough": fact.receiver_borough,
        "days_to_receipt": round(fact.hours_to_receipt / 24, 1),
        "need_by": fact.need_by.isoformat() if fact.need_by else "",
        "on_time": "yes" if fact.on_time else ("no" if fact.need_by else ""),
    }


def fact_count(session: Session, scope: Scope) -> int:
    """How many transfers a scope holds (for progress bars)."""
    return session.scalar(sa.select(sa.func.count()).where(*scope.conditions())) or 0
