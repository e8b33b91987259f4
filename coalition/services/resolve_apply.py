"""Writing a re-solve's changes in bulk: a handful of statements instead of a dozen per match.

The re-solve diffs the optimum against the standing proposals; this module writes the diff in
one savepoint of the caller's transaction:

1. cancel the dropped proposals still unapproved (one UPDATE … RETURNING per chunk);
2. move each touched listing's `reserved` by its net change, as conditional UPDATEs whose row
   counts are checked: a release never takes `reserved` below zero and a reservation needs
   the units available on a listing that still takes reservations (never over-allocating);
3. bring the touched listings' statuses up to date (one UPDATE);
4. insert the new proposals (explanations included) and their outbox events, in bulk.

When a check fails (another worker took stock, a coordinator approved a proposal meanwhile)
the savepoint is rolled back and `apply_in_bulk` returns None: the caller then applies the
same diff one match at a time, which holds what is left, as before.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import sqlalchemy as sa

from coalition.events import names
from coalition.events.envelope import Event, to_envelope
from coalition.models.base import utcnow
from coalition.models.events import OutboxEvent
from coalition.models.listings import Listing, ListingStatus
from coalition.models.matches import Match, MatchSource, MatchState
from coalition.services.stock import RESERVABLE
from coalition.sessions import Session

CHUNK = 400  # ids per statement (well under SQLite's bound-parameter limit)
SUPERSEDED = "superseded by the global re-solve"


@dataclass(frozen=True)
class NewProposal:
    """A pair the optimum wants that no standing proposal covers."""

    offer_id: int
    request_id: int
    quantity: int
    value_per_unit: float
    explanation: dict[str, Any]


class _Conflict(Exception):
    """A conditional update touched fewer rows than it had to."""


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    """Consecutive slices of at most `size` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Proposal(Protocol):
    """What the bulk writes read of a standing proposal (a `Match` or a narrow row)."""

    @property
    def id(self) -> int: ...
    @property
    def offer_id(self) -> int: ...
    @property
    def request_id(self) -> int: ...
    @property
    def quantity(self) -> int: ...


def apply_in_bulk(
    session: Session, dropped: Sequence[Proposal], new: Sequence[NewProposal], actor: str
) -> tuple[int, int] | None:
    """Cancel `dropped`, record `new`; (cancelled, created), or None after a conflict."""
    try:
        with session.begin_nested():  # a conflict rolls back to here, the caller's work stays
            cancelled = _cancel(session, dropped)
            _move_reserved(session, _net_deltas(dropped, new))
            touched = [_sides(m) for m in dropped] + [_sides(p) for p in new]
            _update_statuses(session, {i for pair in touched for i in pair})
            created = _insert(session, new)
            _emit(session, dropped, created, actor)
    except _Conflict:
        return None
    session.expire_all()  # listings and matches changed under the ORM's feet
    return cancelled, len(created)


def _sides(match: Proposal | NewProposal) -> tuple[int, int]:
    return (match.offer_id, match.request_id)


def _cancel(session: Session, dropped: Sequence[Proposal]) -> int:
    """Cancel every dropped proposal, each still unapproved; otherwise a conflict."""
    now, done = utcnow(), 0
    for part in chunks([m.id for m in dropped]):
        result = session.execute(
            sa.update(Match)
            .where(Match.id.in_(part), Match.state == MatchState.PROPOSED)
            .values(
                state=MatchState.CANCELLED, reason=SUPERSEDED, closed_at=now, closed_by="matching"
            )
            .execution_options(synchronize_session=False)
        )
        done += result.rowcount  # type: ignore[attr-defined]
    if done != len(dropped):
        raise _Conflict("a proposal was approved or closed meanwhile")
    return done


def _net_deltas(dropped: Sequence[Proposal], new: Sequence[NewProposal]) -> dict[int, int]:
    """Change of `reserved` per listing: released by the dropped, held by the new."""
    delta: dict[int, int] = defaultdict(int)
    for match in dropped:
        for listing_id in _sides(match):
            delta[listing_id] -= match.quantity
    for proposal in new:
        for listing_id in _sides(proposal):
            delta[listing_id] += proposal.quantity
    return {k: v for k, v in delta.items() if v}


def _move_reserved(session: Session, deltas: dict[int, int]) -> None:
    """Conditional UPDATEs of `reserved`, their row counts checked."""
    releases = sorted((k, v) for k, v in deltas.items() if v < 0)
    holds = sorted((k, v) for k, v in deltas.items() if v > 0)
    for part in chunks(releases):
        change = sa.case(dict(part), value=Listing.id)
        _expect(session, part, Listing.reserved + change >= 0, change)
    for part in chunks(holds):
        change = sa.case(dict(part), value=Listing.id)
        available = Listing.quantity - Listing.reserved - Listing.fulfilled
        _expect(session, part, sa.and_(Listing.status.in_(RESERVABLE), available >= change), change)


def _expect(session: Session, part: Sequence[tuple[int, int]], condition: Any, change: Any) -> None:
    """Apply `reserved += change` where `condition` holds, to every listing of `part`."""
    result = session.execute(
        sa.update(Listing)
        .where(Listing.id.in_([k for k, _ in part]), condition)
        .values(reserved=Listing.reserved + change)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != len(part):  # type: ignore[attr-defined]
        raise _Conflict("stock moved meanwhile")


def _status(value: ListingStatus) -> Any:
    return sa.bindparam(None, value, type_=Listing.status.type)


def _update_statuses(session: Session, listing_ids: set[int]) -> None:
    """`stock.status_for` in SQL, for the touched listings still taking reservations."""
    held = Listing.reserved + Listing.fulfilled
    status = sa.case(
        (Listing.fulfilled >= Listing.quantity, _status(ListingStatus.FULFILLED)),
        (held >= Listing.quantity, _status(ListingStatus.MATCHED)),
        (held > 0, _status(ListingStatus.PARTLY_MATCHED)),
        else_=_status(ListingStatus.OPEN),
    )
    for part in chunks(sorted(listing_ids)):
        session.execute(
            sa.update(Listing)
            .where(Listing.id.in_(part), Listing.status.in_(RESERVABLE))
            .values(status=status)
            .execution_options(synchronize_session=False)
        )


def _insert(session: Session, new: Sequence[NewProposal]) -> list[dict[str, Any]]:
    """Insert the new proposals; return their rows with ids."""
    rows = [
        {
            "offer_id": p.offer_id,
            "request_id": p.request_id,
            "quantity": p.quantity,
            "state": MatchState.PROPOSED,
            "source": MatchSource.RESOLVE,
            "value_per_unit": p.value_per_unit,
            "distance_km": float(p.explanation.get("distance_km") or 0.0),
            "explanation": {**p.explanation, "quantity": p.quantity},
        }
        for p in new
    ]
    if not rows:
        return []
    statement = sa.insert(Match).returning(Match.id, sort_by_parameter_order=True)
    ids = session.scalars(statement, rows).all()
    return [{**row, "id": match_id} for row, match_id in zip(rows, ids, strict=True)]


def _payload(match: Any) -> dict[str, Any]:
    get = match.get if isinstance(match, dict) else lambda key: getattr(match, key)
    return {k: get(k) for k in ("id", "offer_id", "request_id", "quantity")}


def _emit(
    session: Session, dropped: Sequence[Proposal], created: Sequence[dict[str, Any]], actor: str
) -> None:
    """The outbox events the one-by-one path records, in one INSERT."""
    events = [
        Event(type=names.MATCH_CANCELLED, data={**_payload(m), "superseded": True}, actor=actor)
        for m in dropped
    ] + [Event(type=names.MATCH_PROPOSED, data=_payload(row), actor=actor) for row in created]
    if not events:
        return
    session.execute(
        sa.insert(OutboxEvent),
        [{"event_id": e.id, "type": e.type, "payload": to_envelope(e)} for e in events],
    )
    pending: list[str] = session.info.setdefault("outbox_pending", [])
    pending.extend(e.id for e in events)
