"""What the matcher would propose for a listing that is still being written.

`suggest` weighs a draft offer or request against the open counterparts around it with the
engine's own index (`OpenListings.weigh`: the same eligibility, value and greedy order as the
worker's proposals), without posting or reserving anything. Rows are read as plain columns,
inside a bounding box of the draft's radius, to stay fast with many open listings.

Discretion is that of a proposal before approval: no organization's name (unless it chose to
show it), no listing id and no site; only the area and a distance band. Coordinators see all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import sqlalchemy as sa
from flask_babel import format_decimal, gettext

from coalition.matching import Offer, OpenListings, Request
from coalition.matching.model import Listing as EngineListing
from coalition.models.catalog import Category, Kind
from coalition.models.listings import ACTIVE_STATUSES, Direction, Listing, Urgency, Visibility
from coalition.models.organizations import Organization
from coalition.services.discretion import Viewer, distance_phrase, rounded_km, sees_name
from coalition.sessions import Session

SHOWN = 3
KM_PER_DEGREE = 111.32
DEFAULT_DAYS = 30  # staff time with no window yet: the next 30 days, as quick posting does
UNLIMITED = 10_000_000  # no quantity yet: everything the counterparts could take or give
DRAFT_ID = "draft"


@dataclass(frozen=True)
class Draft:
    """The fields of a listing being written that matter to the matcher."""

    direction: Direction
    category: Category
    quantity: int | None
    lat: float
    lon: float
    max_distance_km: float
    urgency: str = Urgency.NORMAL.value
    expires_on: date | None = None
    need_by: date | None = None
    accepts_expired: bool = False
    remote_ok: bool = False
    credentials: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    windows: tuple[tuple[datetime, datetime], ...] = ()


@dataclass(frozen=True)
class Candidate:
    """One counterpart as the viewer may see it before approval."""

    area: str
    distance_km: float
    quantity: int  # what this pair would move now
    available: int
    urgency: str | None = None
    expires_on: date | None = None
    need_by: date | None = None
    name: str | None = None  # only when the viewer may see it, or the organization shows it
    listing_id: int | None = None  # coordinators only
    distance: str = ""  # "2 to 5 km away" (members), "3.2 km away" (coordinators)


@dataclass(frozen=True)
class Suggestions:
    """The counterparts the matcher would propose now, best first, and what they add up to."""

    draft: Draft
    candidates: list[Candidate] = field(default_factory=list)
    counterparts: int = 0  # eligible counterparts with something available
    organizations: int = 0  # distinct organizations among them
    covered: int = 0  # what the greedy proposal would move for the draft's quantity

    @property
    def wanted(self) -> int | None:
        """The draft's quantity, if given."""
        return self.draft.quantity


def suggest(
    session: Session, viewer: Viewer, org: Organization, draft: Draft, today: date
) -> Suggestions:
    """The best current counterparts of the draft, as the viewer may see them."""
    rows = counterpart_rows(session, viewer, org, draft)
    if not rows:
        return Suggestions(draft)
    index = OpenListings()
    for listing in _engine_rows(rows, draft):
        index.add(listing)
    weighed = index.weigh(_engine_listing(draft, org), today, draft.quantity or UNLIMITED)
    eligible = np.flatnonzero(weighed.cap > 0)
    if not len(eligible):
        return Suggestions(draft)
    taken = weighed.take()
    by_id = {str(row.id): row for row in rows}
    ranked = [by_id[weighed.counterpart(int(p)).id] for p in weighed.ranking(eligible)]
    positions = [int(p) for p in weighed.ranking(eligible)[:SHOWN]]
    moves = dict(taken)
    orgs = _organizations(session, {row.organization_id for row in ranked[:SHOWN]})
    shown = [
        _candidate(
            ranked[k],
            orgs[ranked[k].organization_id],
            float(weighed.distance[p]),
            moves.get(p, int(weighed.cap[p])),
            viewer,
        )
        for k, p in enumerate(positions)
    ]
    return Suggestions(
        draft,
        candidates=shown,
        counterparts=len(ranked),
        organizations=len({row.organization_id for row in ranked}),
        covered=sum(q for _, q in taken),
    )


def _organizations(session: Session, ids: set[int]) -> dict[int, Organization]:
    """The organizations of the shown counterparts."""
    found = session.scalars(sa.select(Organization).where(Organization.id.in_(ids)))
    return {org.id: org for org in found}


def _candidate(
    row: Any, org: Organization, distance: float, quantity: int, viewer: Viewer
) -> Candidate:
    """A counterpart as the viewer may see it: names and ids for coordinators only."""
    exact = viewer.coordinator
    offers = row.direction == Direction.OFFER.value
    return Candidate(
        area=org.area,
        distance_km=round(distance, 1) if exact else rounded_km(distance),
        quantity=quantity,
        available=int(row.available),
        urgency=None if offers else (row.urgency or Urgency.NORMAL.value),
        expires_on=row.expires_on if offers else None,
        need_by=None if offers else row.need_by,
        name=org.name if sees_name(org, viewer) else None,
        listing_id=row.id if exact else None,
        distance=_exact_distance(distance) if exact else distance_phrase(distance),
    )


def _exact_distance(distance: float) -> str:
    """'3.2 km away', for coordinators."""
    return gettext("%(km)s km away", km=format_decimal(round(distance, 1)))


# ---------------------------------------------------------------- rows → engine


def _engine_listing(draft: Draft, org: Organization) -> Offer | Request:
    """The draft as the engine sees it."""
    common: dict[str, Any] = {
        "id": DRAFT_ID,
        "org": str(org.id),
        "kind": draft.category.kind.value,
        "category": draft.category.slug,
        "quantity": draft.quantity or UNLIMITED,
        "lat": draft.lat,
        "lon": draft.lon,
        "max_distance_km": draft.max_distance_km,
    }
    if draft.category.kind == Kind.STAFFING:
        common |= {
            "credentials": draft.credentials,
            "languages": draft.languages,
            "remote_ok": draft.remote_ok,
            "windows": draft.windows or (_next_days(),),
        }
    if draft.direction == Direction.OFFER:
        supply = draft.category.kind == Kind.SUPPLY
        return Offer(**common, expires_on=draft.expires_on if supply else None)
    return Request(
        **common,
        urgency=draft.urgency,
        need_by=draft.need_by,
        accepts_expired=draft.accepts_expired,
    )


def _next_days() -> tuple[datetime, datetime]:
    """From the next whole hour (UTC) for DEFAULT_DAYS days."""
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    begin = now + timedelta(hours=1)
    return begin, begin + timedelta(days=DEFAULT_DAYS)


SUPPLY_COLUMNS = (
    Listing.id,
    Listing.organization_id,
    sa.cast(Listing.direction, sa.String).label("direction"),
    Listing.lat,
    Listing.lon,
    Listing.max_distance_km,
    Listing.available.label("available"),
    Listing.expires_on,
    Listing.need_by,
    sa.cast(Listing.urgency, sa.String).label("urgency"),
    Listing.accepts_expired,
)
STAFFING_COLUMNS = (
    *SUPPLY_COLUMNS,
    Listing.remote_ok,
    Listing.credentials,
    Listing.languages,
    Listing.windows,
)


def counterpart_query(
    viewer: Viewer, org: Organization, draft: Draft
) -> sa.Select[*tuple[Any, ...]]:
    """Open listings of the other side, same category, other organizations, around the draft."""
    other = Direction.REQUEST if draft.direction == Direction.OFFER else Direction.OFFER
    staffing = draft.category.kind == Kind.STAFFING
    query = sa.select(*(STAFFING_COLUMNS if staffing else SUPPLY_COLUMNS)).where(
        Listing.direction == other,
        Listing.category_id == draft.category.id,
        Listing.status.in_(ACTIVE_STATUSES),
        Listing.available > 0,
        Listing.organization_id != org.id,
        _near(draft),
    )
    if not viewer.coordinator:  # listings kept for coordinators are not suggested to members
        query = query.where(Listing.visibility == Visibility.COALITION)
    return query


def counterpart_rows(
    session: Session, viewer: Viewer, org: Organization, draft: Draft
) -> list[Any]:
    """The counterparts' rows, read as plain columns (no ORM objects)."""
    return list(session.connection().execute(counterpart_query(viewer, org, draft)))


def _near(draft: Draft) -> sa.ColumnElement[bool]:
    """A bounding box of the draft's radius (remote staff time ignores distance)."""
    dlat = draft.max_distance_km / KM_PER_DEGREE
    dlon = dlat / max(math.cos(math.radians(draft.lat)), 0.01)
    box = sa.and_(
        Listing.lat.between(draft.lat - dlat, draft.lat + dlat),
        Listing.lon.between(draft.lon - dlon, draft.lon + dlon),
    )
    if draft.category.kind == Kind.STAFFING and draft.remote_ok:
        return sa.or_(box, Listing.remote_ok.is_(True))
    return box


def _engine_rows(rows: list[Any], draft: Draft) -> list[EngineListing]:
    """The counterpart rows as the engine's offers or requests (organizations by id)."""
    kind, slug = draft.category.kind.value, draft.category.slug
    staffing = draft.category.kind == Kind.STAFFING
    if draft.direction == Direction.REQUEST:
        return [
            Offer(
                id=str(r.id), org=str(r.organization_id), kind=kind, category=slug,
                quantity=int(r.available), lat=r.lat, lon=r.lon,
                max_distance_km=r.max_distance_km,
                expires_on=None if staffing else r.expires_on,
                **(_staffing(r) if staffing else {}),
            )
            for r in rows
        ]  # fmt: skip
    return [
        Request(
            id=str(r.id), org=str(r.organization_id), kind=kind, category=slug,
            quantity=int(r.available), lat=r.lat, lon=r.lon, max_distance_km=r.max_distance_km,
            urgency=r.urgency or Urgency.NORMAL.value,
            need_by=None if staffing else r.need_by,
            accepts_expired=bool(r.accepts_expired),
            **(_staffing(r) if staffing else {}),
        )
        for r in rows
    ]  # fmt: skip


def _staffing(row: Any) -> dict[str, Any]:
    """Credentials, languages, remote work and windows of a staffing row."""
    return {
        "credentials": frozenset(row.credentials or ()),
        "languages": frozenset(row.languages or ()),
        "remote_ok": bool(row.remote_ok),
        "windows": tuple(_window(w) for w in row.windows or ()),
    }


def _window(window: dict[str, str]) -> tuple[datetime, datetime]:
    """A stored window as two aware datetimes."""
    return datetime.fromisoformat(window["start"]), datetime.fromisoformat(window["end"])
