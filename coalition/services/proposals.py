"""Matching in the platform: rows become the pure engine's dataclasses and proposals come back
as matches that hold stock.

- `propose_for_listing`: the worker's per-event greedy proposals for one listing.
- `resolve`: the periodic global re-solve over open listings and unapproved proposals.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from types import SimpleNamespace
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from coalition.events import names
from coalition.events.outbox import emit
from coalition.matching import (
    Offer,
    OpenListings,
    Problem,
    Request,
    Solution,
    explain_allocations,
    parse_offer,
    parse_request,
    propose_for,
    solve_optimal,
)
from coalition.models.base import utcnow
from coalition.models.catalog import Category, Kind
from coalition.models.listings import ACTIVE_STATUSES, Direction, Listing, ListingStatus
from coalition.models.matches import OPEN_STATES, Match, MatchSource, MatchState, ResolveRun
from coalition.models.organizations import Organization
from coalition.services import credentials, stock
from coalition.services.listings import listing_to_problem_dict
from coalition.services.match_lifecycle import close_for_listing
from coalition.services.resolve_apply import NewProposal, apply_in_bulk
from coalition.sessions import Session

ACTOR = "matching"
KM_PER_DEGREE = 111.32
# A fully matched listing may be held only by proposals, which a re-solve can free.
RESOLVABLE = (*ACTIVE_STATUSES, ListingStatus.MATCHED)
CLOSED_STATUSES = (ListingStatus.WITHDRAWN, ListingStatus.EXPIRED)


def today_utc() -> date:
    """The day values are computed for."""
    return utcnow().date()


# ------------------------------------------------------------------ rows → engine


def to_engine(
    listing: Listing, quantity: int | None = None, held: credentials.Holdings | None = None
) -> Offer | Request:
    """The pure engine's view of a listing, with `quantity` it can still give or take.

    `held` are the credentials that count today: a request of a category whose receivers
    need one its organization lacks is marked ineligible, and the engine never pairs it.
    """
    raw = listing_to_problem_dict(listing)
    if quantity is not None:
        raw["quantity"] = quantity
    if held is not None and not listing.is_offer:
        raw["ineligible"] = credentials.ineligible_reason(listing, held)
    return parse_offer(raw) if listing.direction == Direction.OFFER else parse_request(raw)


# ------------------------------------------------------------------ per-event proposals


def _open_listings_query() -> sa.Select[Listing]:
    """Active listings with something available, category loaded."""
    return (
        sa.select(Listing)
        .options(joinedload(Listing.category), joinedload(Listing.organization))
        .where(Listing.status.in_(ACTIVE_STATUSES), Listing.available > 0)
    )


def _near(listing: Listing) -> sa.ColumnElement[bool]:
    """A bounding box around the listing's radius (remote staffing pairs ignore distance)."""
    dlat = listing.max_distance_km / KM_PER_DEGREE
    dlon = dlat / max(math.cos(math.radians(listing.lat)), 0.01)
    box = sa.and_(
        Listing.lat.between(listing.lat - dlat, listing.lat + dlat),
        Listing.lon.between(listing.lon - dlon, listing.lon + dlon),
    )
    if listing.kind == Kind.STAFFING and listing.remote_ok:
        return sa.or_(box, Listing.remote_ok.is_(True))
    return box


def _already_paired(session: Session, listing: Listing) -> sa.Select[int]:
    """Counterparts this listing already has an open match with."""
    mine, theirs = (
        (Match.offer_id, Match.request_id)
        if listing.direction == Direction.OFFER
        else (Match.request_id, Match.offer_id)
    )
    return sa.select(theirs).where(mine == listing.id, Match.state.in_(OPEN_STATES))


def counterparts(session: Session, listing: Listing) -> list[Listing]:
    """Open listings on the other side that could serve or be served by this one."""
    other = Direction.REQUEST if listing.direction == Direction.OFFER else Direction.OFFER
    query = _open_listings_query().where(
        Listing.direction == other,
        Listing.category_id == listing.category_id,
        Listing.organization_id != listing.organization_id,
        _near(listing),
        Listing.id.not_in(_already_paired(session, listing)),
    )
    return list(session.scalars(query).unique())


def propose_for_listing(
    session: Session, listing_id: int, today: date | None = None
) -> list[Match]:
    """Greedy proposals for one new or changed listing; reserves stock; flush, never commit."""
    listing = session.get(Listing, listing_id, populate_existing=True)
    if listing is None:
        return []
    mark_seen(session, listing)
    if listing.status in CLOSED_STATUSES:
        close_for_listing(session, listing, f"the listing was {listing.status.label}")
    if listing.status not in ACTIVE_STATUSES or listing.available <= 0:
        return []
    today = today or today_utc()
    found = counterparts(session, listing)
    held = credentials.holdings(session, today, {listing.organization_id, *_org_ids(found)})
    index = OpenListings(to_engine(c, held=held) for c in found)
    proposals = propose_for(to_engine(listing, held=held), index, today)
    made = (
        _record(session, p.offer_id, p.request_id, p.quantity, p.value, p.explanation)
        for p in proposals
    )
    return [match for match in made if match is not None]


def _org_ids(listings: Sequence[Listing]) -> set[int]:
    """The organizations of the listings."""
    return {listing.organization_id for listing in listings}


def mark_seen(session: Session, listing: Listing) -> None:
    """Note that matching has seen the listing's current version, without touching
    updated_at (seeing a change is not a change; reconciliation reads its age)."""
    session.execute(
        sa.update(Listing)
        .where(Listing.id == listing.id)
        .values(seen_version=listing.version, updated_at=Listing.updated_at)
        .execution_options(synchronize_session=False)
    )


def _record(
    session: Session,
    offer_id: str,
    request_id: str,
    quantity: int,
    value: float,
    explanation: dict[str, Any],
    source: MatchSource = MatchSource.GREEDY,
) -> Match | None:
    """Reserve and record one proposal; None when the stock has gone meanwhile, or when the
    receiver may not receive the category (a last check, whichever path proposed it)."""
    request = session.get(Listing, int(request_id))
    if request is None or not credentials.may_receive(session, request, today_utc()):
        return None
    held = _reserve_up_to(session, int(offer_id), int(request_id), quantity)
    if held == 0:
        return None
    match = Match(
        offer_id=int(offer_id),
        request_id=int(request_id),
        quantity=held,
        state=MatchState.PROPOSED,
        source=source,
        value_per_unit=value,
        distance_km=float(explanation.get("distance_km") or 0.0),
        explanation={**explanation, "quantity": held},
    )
    session.add(match)
    session.flush()
    emit(session, names.MATCH_PROPOSED, _payload(match), ACTOR)
    return match


def _reserve_up_to(session: Session, offer_id: int, request_id: int, quantity: int) -> int:
    """Hold `quantity`, or what is left if another worker took part of it first."""
    if stock.reserve(session, offer_id, request_id, quantity):
        return quantity
    left = _available(session, offer_id, request_id)
    if 0 < left < quantity and stock.reserve(session, offer_id, request_id, left):
        return left
    return 0


def _available(session: Session, *listing_ids: int) -> int:
    """The smallest availability among the listings, read fresh."""
    rows = session.execute(
        sa.select(Listing.quantity - Listing.reserved - Listing.fulfilled).where(
            Listing.id.in_(listing_ids)
        )
    ).scalars()
    return min(rows, default=0)


def _payload(match: Match) -> dict[str, Any]:
    """Event data: ids, not rows."""
    return {
        "id": match.id,
        "offer_id": match.offer_id,
        "request_id": match.request_id,
        "quantity": match.quantity,
    }


# ------------------------------------------------------------------ global re-solve


@dataclass(frozen=True)
class ResolveResult:
    """What a re-solve found and did."""

    current_value: float
    optimal_value: float
    replaced: bool
    cancelled: int = 0
    created: int = 0
    offers: int = 0
    requests: int = 0

    @property
    def gain(self) -> float:
        """Relative improvement the optimum offers over the standing proposals."""
        if self.current_value <= 0:
            return math.inf if self.optimal_value > 0 else 0.0
        return self.optimal_value / self.current_value - 1.0


def _proposed(session: Session) -> list[Match]:
    """Proposals nobody has approved yet (the only matches a re-solve may replace)."""
    return list(session.scalars(sa.select(Match).where(Match.state == MatchState.PROPOSED)))


@dataclass(frozen=True, slots=True)
class Standing:
    """What a re-solve reads of a standing proposal: one narrow row, no ORM object."""

    id: int
    offer_id: int
    request_id: int
    quantity: int
    value_per_unit: float

    @property
    def value(self) -> float:
        """As `Match.value`."""
        return self.value_per_unit * self.quantity


def standing_proposals(session: Session) -> list[Standing]:
    """The unapproved proposals as narrow rows (explanations are large JSON never needed)."""
    columns = (Match.id, Match.offer_id, Match.request_id, Match.quantity, Match.value_per_unit)
    query = sa.select(*columns).where(Match.state == MatchState.PROPOSED).order_by(Match.id)
    return [Standing(*row) for row in session.execute(query)]


def snapshot(
    session: Session, proposals: Sequence[Match] | Sequence[Standing], today: date
) -> Problem:
    """Open listings with their availability counting unapproved proposals as free.

    One query (listings joined to their category and organization, only the columns the
    engine reads) and one for the credentials held; no ORM objects are built.
    """
    freed: dict[int, int] = {}
    for match in proposals:
        for listing_id in (match.offer_id, match.request_id):
            freed[listing_id] = freed.get(listing_id, 0) + match.quantity
    held = credentials.holdings(session, today)
    engine = []
    for view in snapshot_rows(session):
        quantity = view.available + freed.get(view.id, 0)
        if quantity > 0:
            engine.append(to_engine(cast(Listing, view), quantity, held))
    return Problem(
        today=today,
        offers=tuple(x for x in engine if isinstance(x, Offer)),
        requests=tuple(x for x in engine if isinstance(x, Request)),
    )


SNAPSHOT_COLUMNS = (
    "id", "organization_id", "direction", "kind", "quantity", "reserved", "fulfilled", "lat",
    "lon", "max_distance_km", "urgency", "expires_on", "need_by", "accepts_expired",
    "credentials", "languages", "remote_ok", "windows",
)  # fmt: skip


@dataclass(slots=True)
class _Slug:
    slug: str
    requires_credential: Any = None


class ListingRow(SimpleNamespace):
    """A snapshot row read by `to_engine` and the eligibility rule as they read a Listing."""

    @property
    def available(self) -> int:
        return int(self.quantity - self.reserved - self.fulfilled)

    @property
    def is_offer(self) -> bool:
        return bool(self.direction == Direction.OFFER)


def snapshot_rows(session: Session) -> list[ListingRow]:
    """The re-solvable listings as rows, in one query."""
    columns = [getattr(Listing, name) for name in SNAPSHOT_COLUMNS]
    query = (
        sa.select(
            *columns,
            Category.slug.label("category_slug"),
            Category.requires_credential.label("category_requires"),
            Organization.slug.label("organization_slug"),
        )
        .join(Category, Category.id == Listing.category_id)
        .join(Organization, Organization.id == Listing.organization_id)
        .where(Listing.status.in_(RESOLVABLE))
        .order_by(Listing.id)
    )
    views = []
    for row in session.execute(query):
        values = row._mapping
        view = ListingRow(**{name: values[name] for name in SNAPSHOT_COLUMNS})
        view.category = _Slug(values["category_slug"], values["category_requires"])
        view.organization = _Slug(values["organization_slug"])
        views.append(view)
    return views


def resolve(
    session: Session,
    margin: float,
    today: date | None = None,
    progress: Callable[[str], None] = lambda step: None,
) -> ResolveResult:
    """Re-solve globally; replace unapproved proposals only when better by more than `margin`.

    `progress` is told each step as it starts: snapshot, solve, apply.
    """
    today = today or today_utc()
    progress("snapshot")
    proposals = standing_proposals(session)
    problem = snapshot(session, proposals, today)
    progress("solve")
    standing = {(str(m.offer_id), str(m.request_id)) for m in proposals}
    solution = solve_optimal(problem, prefer=standing)  # ties keep the standing proposals
    current = sum(m.value for m in proposals)
    progress("apply")
    sizes = {"offers": len(problem.offers), "requests": len(problem.requests)}
    if solution.objective <= current * (1.0 + margin) + 1e-9:
        return ResolveResult(current, solution.objective, replaced=False, **sizes)
    cancelled, created = _replace(session, proposals, problem, solution)
    return ResolveResult(current, solution.objective, True, cancelled, created, **sizes)


def run_resolve(
    session: Session, margin: float, progress: Callable[[str], None] = lambda step: None
) -> ResolveRun:
    """Re-solve and keep a record of the run for the coordinators' status; flush only."""
    run = ResolveRun(started_at=utcnow(), state="running")
    session.add(run)
    session.flush()
    started = time.perf_counter()
    result = resolve(session, margin, progress=progress)
    for name in (
        "offers",
        "requests",
        "current_value",
        "optimal_value",
        "replaced",
        "cancelled",
        "created",
    ):
        setattr(run, name, getattr(result, name))
    run.state, run.finished_at = "done", utcnow()
    run.seconds = time.perf_counter() - started
    session.flush()
    return run


def _replace(
    session: Session, proposals: Sequence[Standing], problem: Problem, solution: Solution
) -> tuple[int, int]:
    """Swap the standing proposals for the optimum's, keeping those it keeps.

    The diff is written in bulk (`resolve_apply`); after a conflict with a concurrent change,
    one match at a time, holding what is left.
    """
    wanted = {(a.offer, a.request, a.quantity): i for i, a in enumerate(solution.allocations)}
    keep = [m for m in proposals if (str(m.offer_id), str(m.request_id), m.quantity) in wanted]
    kept_keys = {(str(m.offer_id), str(m.request_id), m.quantity) for m in keep}
    kept_ids = {m.id for m in keep}
    dropped = [m for m in proposals if m.id not in kept_ids]
    explanations = explain_allocations(
        problem, solution, [p for key, p in wanted.items() if key not in kept_keys]
    )
    new = [
        NewProposal(
            int(key[0]),
            int(key[1]),
            key[2],
            explanations[position]["factors"]["value_per_unit"],
            explanations[position],
        )
        for key, position in wanted.items()
        if key not in kept_keys
    ]
    new = _receivable(session, new, problem.today)
    done = apply_in_bulk(session, dropped, new, ACTOR)
    if done is not None:
        return done
    for standing in dropped:
        _supersede(session, session.get_one(Match, standing.id))
    made = (
        _record(session, str(p.offer_id), str(p.request_id), p.quantity, p.value_per_unit,
                p.explanation, MatchSource.RESOLVE)
        for p in new
    )  # fmt: skip
    return len(dropped), sum(1 for match in made if match is not None)


def _receivable(session: Session, new: list[NewProposal], today: date) -> list[NewProposal]:
    """The new proposals whose receivers may receive the category (the last check `_record`
    makes one by one, here with the credentials read once)."""
    held = credentials.holdings(session, today)
    requests = {
        r.id: r
        for r in session.scalars(
            sa.select(Listing)
            .options(joinedload(Listing.category))
            .where(Listing.id.in_(sorted({p.request_id for p in new})))
        )
    }
    return [
        p
        for p in new
        if p.request_id in requests
        and not credentials.ineligible_reason(requests[p.request_id], held)
    ]


def _supersede(session: Session, match: Match) -> None:
    """Cancel an unapproved proposal the optimum does without, if it is still unapproved."""
    result = session.execute(
        sa.update(Match)
        .where(Match.id == match.id, Match.state == MatchState.PROPOSED)
        .values(
            state=MatchState.CANCELLED,
            reason="superseded by the global re-solve",
            closed_at=utcnow(),
            closed_by=ACTOR,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return
    stock.release(session, match)
    emit(session, names.MATCH_CANCELLED, {**_payload(match), "superseded": True}, ACTOR)
