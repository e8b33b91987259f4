"""What each home page shows: read-only queries for a member's and a coordinator's day."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from coalition.auth import actor
from coalition.extensions import db
from coalition.matching.geo import haversine_km
from coalition.models.audit import AuditEntry
from coalition.models.events import DeadLetter, JobLease
from coalition.models.listings import (
    ACTIVE_STATUSES,
    CHANGEABLE_STATUSES,
    Direction,
    Listing,
)
from coalition.models.matches import OPEN_STATES, Match
from coalition.models.organizations import Organization
from coalition.services import match_lifecycle as lifecycle
from coalition.services.discretion import Viewer, match_view

MOVING = {"accept", "handoff", "receive", "approve"}
SHOWN = 6
SUGGESTIONS = 4


def waiting_matches() -> list[dict[str, Any]]:
    """Open matches that wait for something only this person's organization can do."""
    who = actor()
    query = lifecycle.visible_query(who).where(Match.state.in_(OPEN_STATES))
    views = []
    for match in db.session.scalars(query.order_by(Match.updated_at)):
        actions = lifecycle.available_actions(who, match)
        if set(actions) & MOVING and "approve" not in actions:
            views.append(match_view(match, Viewer.of(who), actions))
    return views


def open_listings(org: Organization) -> list[Listing]:
    """The organization's active listings, newest first."""
    return list(
        db.session.scalars(
            sa.select(Listing)
            .where(Listing.organization_id == org.id, Listing.status.in_(CHANGEABLE_STATUSES))
            .order_by(Listing.created_at.desc())
            .limit(SHOWN * 2)
        )
    )


def expiring_offers(today: date, days: int, org: Organization | None = None) -> list[Listing]:
    """Offers with stock left whose lot expires within `days` (the organization's, or all)."""
    query = sa.select(Listing).where(
        Listing.direction == Direction.OFFER,
        Listing.status.in_(ACTIVE_STATUSES),
        Listing.expires_on.is_not(None),
        Listing.expires_on <= today + timedelta(days=days),
        Listing.available > 0,
    )
    if org is not None:
        query = query.where(Listing.organization_id == org.id)
    return list(db.session.scalars(query.order_by(Listing.expires_on).limit(SHOWN * 2)))


def suggestions(org: Organization) -> dict[str, list[tuple[Listing, float]]]:
    """Requests near us in categories we offer, and offers near us in categories we asked for."""
    ours = open_listings(org)
    return {
        "requests": _near(org, Direction.REQUEST, {x.category_id for x in ours if x.is_offer}),
        "offers": _near(org, Direction.OFFER, {x.category_id for x in ours if not x.is_offer}),
    }


def _near(org: Organization, direction: Direction, categories: set[int]) -> list[Any]:
    """Other organizations' open listings of these categories within our service radius."""
    if not categories:
        return []
    rows = db.session.scalars(
        sa.select(Listing)
        .where(
            Listing.direction == direction,
            Listing.status.in_(ACTIVE_STATUSES),
            Listing.category_id.in_(categories),
            Listing.organization_id != org.id,
            Listing.available > 0,
        )
        .order_by(Listing.created_at.desc())
        .limit(200)
    )
    near = [(x, haversine_km(org.lat, org.lon, x.lat, x.lon)) for x in rows]
    near = [(x, km) for x, km in near if km <= min(org.service_radius_km, x.max_distance_km)]
    return sorted(near, key=lambda pair: pair[1])[:SUGGESTIONS]


# ---------------------------------------------------------------- coordinators


def queue_summary() -> dict[str, Any]:
    """How many proposals wait, and since when the oldest."""
    proposals = lifecycle.queue(db.session)
    oldest = min((m.created_at for m in proposals), default=None)
    return {"count": len(proposals), "oldest": oldest, "first": proposals[:3]}


def unmet_by_urgency() -> list[tuple[str, int, int]]:
    """Open requests per urgency: (urgency, listings, units or hours still needed)."""
    rows = db.session.execute(
        sa.select(Listing.urgency, sa.func.count(), sa.func.sum(Listing.available))
        .where(Listing.direction == Direction.REQUEST, Listing.status.in_(ACTIVE_STATUSES))
        .group_by(Listing.urgency)
    ).all()
    order = ["critical", "high", "normal", "low"]
    found = {(u.value if u else "normal"): (n, int(q or 0)) for u, n, q in rows}
    return [(u, *found[u]) for u in order if u in found]


def operations() -> dict[str, Any]:
    """Dead letters waiting for a replay and periodic jobs whose last run failed."""
    dead = db.session.scalar(
        sa.select(sa.func.count()).select_from(DeadLetter).where(DeadLetter.replayed_at.is_(None))
    )
    failing = db.session.scalars(
        sa.select(JobLease).where(JobLease.last_error.is_not(None)).order_by(JobLease.name)
    ).all()
    jobs = db.session.scalar(sa.select(sa.func.count()).select_from(JobLease)) or 0
    return {"dead": dead or 0, "failing": failing, "jobs": jobs}


def recent_activity(limit: int = 8) -> list[AuditEntry]:
    """The newest audit entries."""
    return list(
        db.session.scalars(
            sa.select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
        )
    )
