"""Proactive proposals: the forecast posts a request before an organization runs out, and an
offer of stock that would expire unused, on the organization's behalf.

After each forecast (`evaluate`): when the stock lasts less than the organization's lead time
for the category (default 14 days), a request for enough to last twice the lead time, with
a need-by date at the low end of the band; when a dated lot will not be used up before it
expires, an offer of those units with that expiry. Each is an ordinary listing, so it goes
through the same matching, explanation and coordinator approval; a `StockSuggestion` marks
it as the forecast's, with the figures. One active suggestion per organization, category
and direction; it is withdrawn when a count or a transfer removes the risk, never created
for a receiver without the credential the category needs, and a member may dismiss it
(no new one for that category and direction for DISMISS_DAYS). Flush, never commit.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from coalition.actors import Actor
from coalition.models.base import utcnow
from coalition.models.catalog import Category
from coalition.models.inventory import (
    StockForecast,
    StockSetting,
    StockSuggestion,
    SuggestionState,
)
from coalition.models.listings import CHANGEABLE_STATUSES, Direction, Listing
from coalition.models.matches import OPEN_STATES, Match, MatchState
from coalition.models.organizations import Organization
from coalition.services import credentials
from coalition.services import listings as listing_service
from coalition.services.errors import ServiceError
from coalition.services.listing_input import CREATE_SCHEMAS
from coalition.sessions import Session

DEFAULT_LEAD_DAYS = 14
DISMISS_DAYS = 14
MIN_UNITS = 1


def setting(session: Session, org_id: int, category_id: int) -> StockSetting:
    """The organization's thresholds for the category (defaults when never set)."""
    row = session.scalar(
        sa.select(StockSetting).where(
            StockSetting.organization_id == org_id, StockSetting.category_id == category_id
        )
    )
    return row or StockSetting(
        organization_id=org_id, category_id=category_id, lead_days=DEFAULT_LEAD_DAYS, suggest=True
    )


def save_setting(
    session: Session, org_id: int, category_id: int, lead_days: int, suggest: bool
) -> StockSetting:
    """Set the lead time (1 to 180 days) and whether to suggest."""
    if not 1 <= lead_days <= 180:
        raise ServiceError("must be between 1 and 180 days", "lead_days")
    row = setting(session, org_id, category_id)
    row.lead_days, row.suggest = lead_days, suggest
    session.add(row)
    session.flush()
    return row


# ---------------------------------------------------------------- what the forecast calls for


def shortage(fc: StockForecast, lead_days: int, today: date) -> dict[str, Any] | None:
    """A request when the stock lasts less than the lead time: units, urgency, need-by."""
    if fc.rate is None or fc.days_left is None or fc.days_left >= lead_days:
        return None
    units = math.ceil(fc.rate * 2 * lead_days - fc.on_hand)
    if units < MIN_UNITS:
        return None
    days = fc.days_left
    urgency = "critical" if days < 3 else "high" if days < 7 else "normal"
    need_by = today + timedelta(days=max(math.floor(fc.days_low or days), 0))
    return {"quantity": units, "urgency": urgency, "need_by": need_by}


def surplus(fc: StockForecast, today: date) -> dict[str, Any] | None:
    """An offer of the soonest lot projected to expire unused: units and expiry."""
    for lot in fc.lots or []:
        units = int(lot.get("unused_at_expiry") or 0)
        expires = date.fromisoformat(lot["expires_on"])
        if units >= MIN_UNITS and expires > today:
            return {"quantity": units, "expires_on": expires}
    return None


def figures(fc: StockForecast, lead_days: int, wanted: dict[str, Any]) -> dict[str, Any]:
    """What triggered a suggestion, for the pages."""
    return {
        "on_hand": fc.on_hand,
        "rate": round(fc.rate or 0.0, 2),
        "days_left": None if fc.days_left is None else round(fc.days_left, 1),
        "days_low": None if fc.days_low is None else round(fc.days_low, 1),
        "days_high": None if fc.days_high is None else round(fc.days_high, 1),
        "lead_days": lead_days,
        "quantity": wanted["quantity"],
        "expires_on": wanted["expires_on"].isoformat() if wanted.get("expires_on") else None,
        "method": fc.method,
    }


# ---------------------------------------------------------------- keeping them in step


def active(
    session: Session, org_id: int, category_id: int, direction: str
) -> StockSuggestion | None:
    """The pair's active suggestion in that direction."""
    return session.scalar(
        sa.select(StockSuggestion).where(
            StockSuggestion.organization_id == org_id,
            StockSuggestion.category_id == category_id,
            StockSuggestion.direction == direction,
            StockSuggestion.state == SuggestionState.ACTIVE,
        )
    )


def _recently_dismissed(
    session: Session, org_id: int, category_id: int, direction: str, now: datetime
) -> bool:
    """A member dismissed one for this category and direction within DISMISS_DAYS."""
    since = now - timedelta(days=DISMISS_DAYS)
    return (
        session.scalar(
            sa.select(sa.func.count()).where(
                StockSuggestion.organization_id == org_id,
                StockSuggestion.category_id == category_id,
                StockSuggestion.direction == direction,
                StockSuggestion.state == SuggestionState.DISMISSED,
                StockSuggestion.closed_at >= since,
            )
        )
        or 0
    ) > 0


def evaluate(
    session: Session, org_id: int, category_id: int, now: datetime | None = None
) -> dict[str, StockSuggestion | None]:
    """Create, keep or withdraw the pair's suggestions to match its latest forecast."""
    now = now or utcnow()
    today = now.date()
    fc = session.scalar(
        sa.select(StockForecast).where(
            StockForecast.organization_id == org_id, StockForecast.category_id == category_id
        )
    )
    org = session.get_one(Organization, org_id)
    category = session.get_one(Category, category_id)
    rule = setting(session, org_id, category_id)
    wanted = {
        Direction.REQUEST.value: shortage(fc, rule.lead_days, today) if fc else None,
        Direction.OFFER.value: surplus(fc, today) if fc else None,
    }
    if wanted["request"] and not _may_receive(session, org_id, category, today):
        wanted["request"] = None
    result: dict[str, StockSuggestion | None] = {}
    for direction, want in wanted.items():
        current = _settled(session, active(session, org_id, category_id, direction), now)
        if current is not None and want is None:
            withdraw(session, current, SuggestionState.WITHDRAWN, now)
            current = None
        elif current is None and want is not None and fc is not None and rule.suggest:
            current = _maybe_post(session, org, category, direction, want, fc, rule, now)
        result[direction] = current
    return result


def _maybe_post(
    session: Session,
    org: Organization,
    category: Category,
    direction: str,
    want: dict[str, Any],
    fc: StockForecast,
    rule: StockSetting,
    now: datetime,
) -> StockSuggestion | None:
    """Post a suggestion unless the organization is inactive or dismissed one lately."""
    if not org.is_active or _recently_dismissed(session, org.id, category.id, direction, now):
        return None
    return _post(session, org, category, direction, want, fc, rule.lead_days)


def _may_receive(session: Session, org_id: int, category: Category, today: date) -> bool:
    """Whether the organization holds what the category's receivers need."""
    kind = category.requires_credential
    return not kind or (org_id, kind) in credentials.holdings(session, today, [org_id])


def _settled(
    session: Session, suggestion: StockSuggestion | None, now: datetime
) -> StockSuggestion | None:
    """The suggestion if its listing is still open; closed (and None) when it has ended."""
    if suggestion is None:
        return None
    listing = session.get_one(Listing, suggestion.listing_id)
    if listing.status in CHANGEABLE_STATUSES:
        return suggestion
    suggestion.state, suggestion.closed_at = SuggestionState.CLOSED, now
    return None


def _post(
    session: Session,
    org: Organization,
    category: Category,
    direction: str,
    want: dict[str, Any],
    fc: StockForecast,
    lead_days: int,
) -> StockSuggestion:
    """Post the listing as the system, on the organization's behalf, and mark it."""
    raw: dict[str, Any] = {"category": category.slug, "quantity": want["quantity"]}
    if direction == Direction.REQUEST.value:
        raw |= {"urgency": want["urgency"], "need_by": want["need_by"].isoformat()}
    else:
        raw["expires_on"] = want["expires_on"].isoformat()
    data = CREATE_SCHEMAS[Direction(direction)]().load(raw)
    listing = listing_service.post_listing(session, None, direction, data, org=org)
    suggestion = StockSuggestion(
        organization_id=org.id,
        category_id=category.id,
        direction=direction,
        listing_id=listing.id,
        figures=figures(fc, lead_days, want),
    )
    session.add(suggestion)
    session.flush()
    return suggestion


def withdraw(
    session: Session, suggestion: StockSuggestion, state: SuggestionState, now: datetime
) -> None:
    """End a suggestion and withdraw its listing, unless a match on it is already approved."""
    listing = session.get_one(Listing, suggestion.listing_id)
    approved = session.scalar(
        sa.select(sa.func.count()).where(
            sa.or_(Match.offer_id == listing.id, Match.request_id == listing.id),
            Match.state.in_([s for s in OPEN_STATES if s != MatchState.PROPOSED]),
        )
    )
    if listing.status in CHANGEABLE_STATUSES and not approved:
        listing_service.withdraw_listing(session, None, listing)
    suggestion.state, suggestion.closed_at = state, now
    session.flush()


def dismiss(session: Session, actor: Actor, suggestion: StockSuggestion) -> None:
    """A member (or a coordinator) dismisses a suggestion: its listing is withdrawn."""
    if not (
        getattr(actor, "is_coordinator", False)
        or actor.organization_id == suggestion.organization_id
    ):
        raise ServiceError("You can only dismiss your own organization's suggestions.", status=403)
    if suggestion.state != SuggestionState.ACTIVE:
        raise ServiceError("This suggestion is no longer active.", status=409)
    withdraw(session, suggestion, SuggestionState.DISMISSED, utcnow())


# ---------------------------------------------------------------- reading


def for_org(session: Session, org_id: int) -> list[StockSuggestion]:
    """The organization's active suggestions, newest first."""
    query = sa.select(StockSuggestion).where(
        StockSuggestion.organization_id == org_id,
        StockSuggestion.state == SuggestionState.ACTIVE,
    )
    return list(session.scalars(query.order_by(StockSuggestion.created_at.desc())))


def for_listing(session: Session, listing_id: int) -> StockSuggestion | None:
    """The suggestion behind a listing, if the forecast posted it."""
    return session.scalar(
        sa.select(StockSuggestion).where(StockSuggestion.listing_id == listing_id)
    )


def evaluate_all(session: Session, now: datetime | None = None) -> int:
    """Evaluate every forecast pair; how many were looked at."""
    pairs = session.execute(
        sa.select(StockForecast.organization_id, StockForecast.category_id)
    ).all()
    for org_id, category_id in pairs:
        evaluate(session, org_id, category_id, now)
    return len(pairs)
