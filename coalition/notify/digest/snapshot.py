"""Content that many digests share (new listings of the period, who may see each, the
coalition's impact, matches waiting and stock expiring per organization), loaded once into
a `Snapshot` with a handful of queries. Visibility comes from the listings service's own
query, run once per kind of viewer (a coordinator, a member of one organization, someone of
no organization)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from coalition.matching.geo import haversine_km
from coalition.models.catalog import Category, Kind
from coalition.models.listings import ACTIVE_STATUSES, Direction, Listing
from coalition.models.matches import Match, MatchState
from coalition.models.organizations import Organization, OrgStatus
from coalition.notify.digest.readers import Links, Viewer
from coalition.services import impact
from coalition.services.listings import visible_listings_query
from coalition.sessions import Session

MAX_ITEMS = 10  # per section; the rest is a count and a link
EXPIRY_DAYS = 30


@dataclass(frozen=True)
class ListingRow:
    """A new listing, as every digest of the period may show it."""

    category_slug: str
    url: str
    id: int
    direction: Direction
    kind: Kind
    category_id: int
    organization_id: int
    lat: float
    lon: float
    created_at: datetime
    available: int
    urgency: str | None
    need_by: date | None
    expires_on: date | None


@dataclass(frozen=True)
class OrgRow:
    """An organization, as digests name it."""

    id: int
    name: str
    area: str
    lat: float
    lon: float
    timezone: str
    discreet: bool
    show_name: bool = False


@dataclass(frozen=True)
class CategoryRow:
    """A category's labels and unit."""

    id: int
    slug: str
    kind: Kind
    unit: str
    plain: str
    neutral: str

    def label(self, neutral: bool) -> str:
        """Plain or neutral label."""
        return self.neutral if neutral else self.plain

    def unit_for(self, neutral: bool) -> str:
        """The unit; neutral wording says only units or hours."""
        if neutral:
            return "hours" if self.kind == Kind.STAFFING else "units"
        return self.unit


@dataclass
class Impact:
    """What the coalition shared in a period."""

    units: list[tuple[int, int]] = field(default_factory=list)  # (category id, units)
    staff_hours: int = 0
    fulfilled: int = 0

    @property
    def is_empty(self) -> bool:
        """Nothing was handed over."""
        return self.fulfilled == 0


@dataclass(frozen=True)
class Waiting:
    """A match waiting for one organization's action."""

    match_id: int
    action: str
    category_id: int
    quantity: int
    counterpart_id: int
    url: str


@dataclass(frozen=True)
class Expiring:
    """A lot of the recipient's organization expiring soon."""

    category_id: int
    available: int
    expires_on: date
    url: str


class Snapshot:
    """Everything digests of one run share, loaded with a fixed number of queries."""

    def __init__(self, session: Session, links: Links, since: datetime, until: datetime) -> None:
        self.session = session
        self.links = links
        self.since = since
        self.until = until
        self.today = until.date()
        self.categories = self._categories()
        self.orgs = self._orgs()
        self.listings = self._listings()
        self._visible: dict[Viewer, frozenset[int]] = {}
        self._impact: dict[tuple[datetime, datetime], Impact] = {}
        self._waiting: dict[int, list[Waiting]] | None = None
        self._proposals: tuple[int, list[Waiting]] | None = None
        self._expiring: dict[int, list[Expiring]] | None = None
        self._open: dict[tuple[int, Direction], frozenset[int]] | None = None
        self._candidates: dict[
            tuple[Viewer, datetime, datetime], list[tuple[ListingRow, float | None]]
        ] = {}
        # filtered (offers, requests) sections per kind of reader, kept by the content module
        self.sections: dict[tuple[Any, ...], Any] = {}
        # translated phrases (organization labels, distances) by what they depend on
        self.phrases: dict[tuple[Any, ...], str] = {}

    def covers(self, since: datetime, until: datetime) -> bool:
        """Whether a window lies within what this snapshot loaded."""
        return self.since <= since and until <= self.until

    def _categories(self) -> dict[int, CategoryRow]:
        """Every category by id."""
        rows = self.session.execute(
            sa.select(
                Category.id,
                Category.slug,
                Category.kind,
                Category.unit,
                Category.plain_label,
                Category.neutral_label,
            )
        )
        return {r[0]: CategoryRow(*r) for r in rows}

    def _orgs(self) -> dict[int, OrgRow]:
        """Every organization by id."""
        rows = self.session.execute(
            sa.select(
                Organization.id,
                Organization.name,
                Organization.borough,
                Organization.lat,
                Organization.lon,
                Organization.timezone,
                Organization.discreet_wording,
                Organization.show_name,
            )
        )
        return {r[0]: OrgRow(r[0], r[1], r[2] or "New York City", *r[3:]) for r in rows}

    def _window(self) -> list[Any]:
        """Conditions of the listings new in the snapshot's window, still open, and of an
        active organization (a suspended one's listings are left out of every digest)."""
        active = sa.select(Organization.id).where(Organization.status == OrgStatus.ACTIVE)
        return [
            Listing.created_at >= self.since,
            Listing.created_at < self.until,
            Listing.status.in_(ACTIVE_STATUSES),
            Listing.organization_id.in_(active),
        ]

    def _listings(self) -> list[ListingRow]:
        """New listings of the window, newest first."""
        rows = self.session.execute(
            sa.select(
                Listing.id,
                Listing.direction,
                Listing.kind,
                Listing.category_id,
                Listing.organization_id,
                Listing.lat,
                Listing.lon,
                Listing.created_at,
                Listing.available,
                Listing.urgency,
                Listing.need_by,
                Listing.expires_on,
            )
            .where(*self._window())
            .order_by(Listing.created_at.desc(), Listing.id.desc())
        )
        slugs = {category_id: c.slug for category_id, c in self.categories.items()}
        url = self.links.url
        return [
            ListingRow(slugs[r[3]], url("listing", listing_id=r[0]), *cast(tuple[Any, ...], r))
            for r in rows
        ]

    def visible_ids(self, viewer: Viewer) -> frozenset[int]:
        """Ids of the window's listings this kind of viewer may see (one query per kind)."""
        if viewer not in self._visible:
            query = visible_listings_query(viewer).with_only_columns(Listing.id)
            ids = self.session.scalars(query.where(*self._window()))
            self._visible[viewer] = frozenset(ids)
        return self._visible[viewer]

    def impact(self, since: datetime, until: datetime) -> Impact:
        """Units by category, staff hours and fulfilled matches received in the window."""
        key = (since, until)
        if key not in self._impact:
            self._impact[key] = self._load_impact(since, until)
        return self._impact[key]

    def _load_impact(self, since: datetime, until: datetime) -> Impact:
        """The impact figures of the window (coalition.services.impact, one implementation)."""
        figures = impact.compute(self.session, impact.Scope(since=since, until=until))
        ids = {c.slug: category_id for category_id, c in self.categories.items()}
        units = [(ids[c.key], c.quantity) for c in figures.supplies if c.key in ids]
        return Impact(units=units, staff_hours=figures.hours, fulfilled=figures.transfers)

    def waiting(self, org_id: int) -> list[Waiting]:
        """Approved matches the organization has not accepted, and hand-offs and receipts due."""
        if self._waiting is None:
            self._waiting = self._load_waiting()
        return self._waiting.get(org_id, [])

    def _load_waiting(self) -> dict[int, list[Waiting]]:
        """Every open match after approval, filed under the organization that must act."""
        offer, request = aliased(Listing), aliased(Listing)
        rows = self.session.execute(
            sa.select(
                Match.id,
                Match.state,
                Match.quantity,
                Match.offer_accepted_at,
                Match.request_accepted_at,
                offer.organization_id,
                request.organization_id,
                offer.category_id,
            )
            .join(offer, Match.offer_id == offer.id)
            .join(request, Match.request_id == request.id)
            .where(
                Match.state.in_((MatchState.APPROVED, MatchState.ACCEPTED, MatchState.HANDED_OFF))
            )
            .order_by(Match.created_at)
        ).all()
        waiting: dict[int, list[Waiting]] = defaultdict(list)
        for row in rows:
            for org_id, counterpart, action in _actions_due(*row[1:7]):
                url = self.links.url("match", match_id=row[0])
                waiting[org_id].append(Waiting(row[0], action, row[7], row[2], counterpart, url))
        return waiting

    def proposals(self) -> tuple[int, list[Waiting]]:
        """Proposed matches waiting for a coordinator: how many, and the oldest few."""
        if self._proposals is None:
            self._proposals = self._load_proposals()
        return self._proposals

    def _load_proposals(self) -> tuple[int, list[Waiting]]:
        """The count and the oldest proposals."""
        offer = aliased(Listing)
        base = sa.select(Match).where(Match.state == MatchState.PROPOSED)
        total = self.session.scalar(sa.select(sa.func.count()).select_from(base.subquery())) or 0
        rows = self.session.execute(
            sa.select(Match.id, Match.quantity, offer.category_id, offer.organization_id)
            .join(offer, Match.offer_id == offer.id)
            .where(Match.state == MatchState.PROPOSED)
            .order_by(Match.created_at, Match.id)
            .limit(MAX_ITEMS)
        ).all()
        url = self.links.url("queue")
        items = [Waiting(r[0], "approve or reject", r[2], r[1], r[3], url) for r in rows]
        return total, items

    def expiring(self, org_id: int) -> list[Expiring]:
        """The organization's open supply offers whose lot expires within 30 days."""
        if self._expiring is None:
            self._expiring = self._load_expiring()
        return self._expiring.get(org_id, [])

    def _load_expiring(self) -> dict[int, list[Expiring]]:
        """Every such offer, filed by organization, soonest first."""
        rows = self.session.execute(
            sa.select(
                Listing.id,
                Listing.organization_id,
                Listing.category_id,
                Listing.available,
                Listing.expires_on,
            )
            .where(
                Listing.direction == Direction.OFFER,
                Listing.kind == Kind.SUPPLY,
                Listing.status.in_(ACTIVE_STATUSES),
                Listing.available > 0,
                Listing.expires_on >= self.today,
                Listing.expires_on <= self.today + timedelta(days=EXPIRY_DAYS),
            )
            .order_by(Listing.expires_on, Listing.id)
        )
        expiring: dict[int, list[Expiring]] = defaultdict(list)
        for listing_id, org_id, category_id, available, expires_on in rows:
            if expires_on is None:  # excluded by the query; says so to the type checker
                continue
            url = self.links.url("listing", listing_id=listing_id)
            expiring[org_id].append(Expiring(category_id, available, expires_on, url))
        return expiring

    def open_categories(self, org_id: int, direction: Direction) -> frozenset[int]:
        """Categories the organization has open listings of, in one direction."""
        if self._open is None:
            self._open = self._load_open()
        return self._open.get((org_id, direction), frozenset())

    def _load_open(self) -> dict[tuple[int, Direction], frozenset[int]]:
        """(organization, direction) -> categories with an open listing, in one query."""
        rows = self.session.execute(
            sa.select(Listing.organization_id, Listing.direction, Listing.category_id)
            .where(Listing.status.in_(ACTIVE_STATUSES), Listing.available > 0)
            .distinct()
        )
        found: dict[tuple[int, Direction], set[int]] = defaultdict(set)
        for org_id, direction, category_id in rows:
            found[(org_id, direction)].add(category_id)
        return {key: frozenset(value) for key, value in found.items()}

    def candidates(
        self, viewer: Viewer, since: datetime, until: datetime
    ) -> list[tuple[ListingRow, float | None]]:
        """The window's listings this kind of viewer may see, newest first, each with its
        distance from the viewer's organization (computed once per kind of viewer)."""
        key = (viewer, since, until)
        if key not in self._candidates:
            visible = self.visible_ids(viewer)
            origin = self.orgs.get(viewer.organization_id or 0)
            self._candidates[key] = [
                (row, _distance(origin, row))
                for row in self.listings
                if row.id in visible and since <= row.created_at < until
            ]
        return self._candidates[key]


def _distance(origin: OrgRow | None, row: ListingRow) -> float | None:
    """Kilometres from an organization to another's listing; None for its own or for nobody's."""
    if origin is None or origin.id == row.organization_id:
        return None
    return haversine_km(origin.lat, origin.lon, row.lat, row.lon)


def _actions_due(
    state: MatchState,
    quantity: int,
    offer_accepted: datetime | None,
    request_accepted: datetime | None,
    offer_org: int,
    request_org: int,
) -> list[tuple[int, int, str]]:
    """(organization that must act, counterpart, what to do) for one match."""
    if state == MatchState.APPROVED:
        due = []
        if offer_accepted is None:
            due.append((offer_org, request_org, "accept or decline"))
        if request_accepted is None:
            due.append((request_org, offer_org, "accept or decline"))
        return due
    if state == MatchState.ACCEPTED:
        return [(offer_org, request_org, "hand over")]
    return [(request_org, offer_org, "confirm receipt")]
