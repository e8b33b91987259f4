"""Keeping `impact_facts` (one narrow row per fulfilled match) and its monthly rollups."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from coalition.models.impact import ImpactFact
from coalition.models.listings import Listing
from coalition.models.matches import Match, MatchState
from coalition.models.organizations import Organization
from coalition.services.impact.rollup import ROLLUPS, keys_of, recount
from coalition.services.impact.rollup import rebuild as rebuild_rollups
from coalition.services.impact.scope import SHORT_DATED_DAYS, TIMEZONE
from coalition.sessions import Session


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
    """Write (or rewrite) the fact of a fulfilled match, nothing for any other state, and
    recount the rollup rows the old and the new fact belong to (so running it twice is
    harmless). Flush, never commit."""
    old = session.get(ImpactFact, match_id)
    keys = [keys_of(old)] if old is not None else []
    session.execute(sa.delete(ImpactFact).where(ImpactFact.match_id == match_id))
    row = session.execute(_ledger_query().where(Match.id == match_id)).one_or_none()
    fact = None
    if row is not None:
        fact = ImpactFact(**fact_values(row))
        session.add(fact)
        session.flush()
        keys.append(keys_of(fact))
    recount(session, keys)
    return fact


def fulfilled_count(session: Session) -> int:
    """How many matches are fulfilled (what a rebuild will write)."""
    query = sa.select(sa.func.count()).where(Match.state == MatchState.FULFILLED)
    return session.scalar(query) or 0


def rebuild_facts(
    session: Session, batch: int = 5000, progress: Callable[[int], None] | None = None
) -> int:
    """Re-create every fact from the fulfilled matches, in batches, then the rollups from the
    facts; returns how many facts."""
    session.execute(sa.delete(ImpactFact))
    written, last_id = 0, 0
    while True:
        query = _ledger_query().where(Match.id > last_id).order_by(Match.id).limit(batch)
        rows = session.execute(query).all()
        if not rows:
            break
        session.execute(sa.insert(ImpactFact), [fact_values(r) for r in rows])
        written, last_id = written + len(rows), rows[-1].match_id
        if progress:
            progress(len(rows))
    rebuild_rollups(session)
    analyze(session)
    return written


def analyze(session: Session) -> None:
    """On PostgreSQL, refresh the planner's statistics of the facts and rollups after a bulk
    rebuild (what an operator would run; ANALYZE may run inside the transaction). SQLite's
    queries name their indexes and are left without statistics."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for model in (ImpactFact, *ROLLUPS):
        session.execute(sa.text(f"ANALYZE {model.__tablename__}"))  # noqa: S608  # nosec B608
