"""Reading matches: the coordinators' proposal queue and an organization's ledger."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from coalition.models.listings import Listing, Urgency
from coalition.models.matches import Match, MatchState
from coalition.sessions import Session

URGENCY_RANK = {Urgency.CRITICAL: 0, Urgency.HIGH: 1, Urgency.NORMAL: 2, Urgency.LOW: 3}
S = MatchState


def urgency_order() -> sa.Case[int]:
    """Critical first; requests without an urgency last."""
    return sa.case(
        {u.value: rank for u, rank in URGENCY_RANK.items()}, value=Listing.urgency, else_=9
    )


def queue(session: Session) -> list[Match]:
    """Proposals waiting for a coordinator: most urgent first, then oldest first."""
    return list(
        session.scalars(
            sa.select(Match)
            .join(Listing, Match.request_id == Listing.id)
            .where(Match.state == S.PROPOSED)
            .order_by(urgency_order(), Match.created_at, Match.id)
        )
    )


def ledger(session: Session, org_id: int) -> list[dict[str, Any]]:
    """What the organization gave and received, by month and category (fulfilled matches)."""
    offer, request = aliased(Listing), aliased(Listing)
    rows = session.execute(
        sa.select(Match, offer.organization_id, request.organization_id)
        .join(offer, Match.offer_id == offer.id)
        .join(request, Match.request_id == request.id)
        .where(
            Match.state == S.FULFILLED,
            sa.or_(offer.organization_id == org_id, request.organization_id == org_id),
        )
    ).all()
    totals: dict[tuple[str, str, int], dict[str, Any]] = {}
    for match, giver, _receiver in rows:
        direction = "gave" if giver == org_id else "received"
        _add_to_ledger(totals, match, direction)
    return sorted(totals.values(), key=lambda r: (r["month"], r["category"]), reverse=True)


def _add_to_ledger(totals: dict[Any, dict[str, Any]], match: Match, direction: str) -> None:
    """Add a fulfilled match's quantity to its month and category row."""
    when = match.received_at or match.updated_at
    month = when.strftime("%Y-%m")
    category = match.offer.category
    row = totals.setdefault(
        (month, category.slug, category.id),
        {
            "month": month,
            "category": category.plain_label,
            "unit": category.unit,
            "gave": 0,
            "received": 0,
        },
    )
    row[direction] += match.quantity
