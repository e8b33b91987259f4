"""Which offer can serve which request (MATCHING.md, "Eligible pairs"), and why not."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from coalition.matching.geo import haversine_km
from coalition.matching.model import Offer, Request, Window

HOUR = timedelta(hours=1)


def overlap_hours(a: Sequence[Window], b: Sequence[Window]) -> int:
    """Whole hours in the sum of the intersections of every pair of windows."""
    total = timedelta()
    for start_a, end_a in a:
        for start_b, end_b in b:
            total += max(timedelta(), min(end_a, end_b) - max(start_a, start_b))
    return total // HOUR


def distance_km(offer: Offer, request: Request) -> float:
    """Great-circle distance between the two listings."""
    return haversine_km(offer.lat, offer.lon, request.lat, request.lon)


def radius_km(offer: Offer, request: Request) -> float:
    """The distance limit both sides accept."""
    return min(offer.max_distance_km, request.max_distance_km)


def is_remote_pair(offer: Offer, request: Request) -> bool:
    """Staffing that both sides accept remotely, so distance does not limit it."""
    return offer.kind == "staffing" and offer.remote_ok and request.remote_ok


def pair_cap(offer: Offer, request: Request) -> int:
    """Most that can move on the pair: both quantities and, for staffing, the shared hours."""
    cap = min(offer.quantity, request.quantity)
    if offer.kind == "staffing":
        cap = min(cap, overlap_hours(offer.windows, request.windows))
    return cap


def ineligibility_reason(
    offer: Offer, request: Request, today: date, distance: float | None = None
) -> str | None:
    """Why the offer cannot serve the request, or None when it can.

    `distance` saves recomputing `distance_km(offer, request)` when the caller has it.
    """
    if offer.kind != request.kind:
        return "different kind"
    if offer.category != request.category:
        return "different category"
    if offer.org == request.org:
        return "same organization"
    if request.ineligible:
        return request.ineligible
    if not is_remote_pair(offer, request):
        reason = _distance_reason(offer, request, distance)
        if reason is not None:
            return reason
    if offer.kind == "supply":
        return _expiry_reason(offer, request, today)
    return _staffing_reason(offer, request)


def is_eligible(offer: Offer, request: Request, today: date) -> bool:
    """True when the offer can serve the request."""
    return ineligibility_reason(offer, request, today) is None


def _distance_reason(offer: Offer, request: Request, distance: float | None) -> str | None:
    """Within the smaller of the two radii."""
    limit = radius_km(offer, request)
    if distance is None:
        distance = distance_km(offer, request)
    return f"too far ({distance:.1f} km > {limit:g} km)" if distance > limit else None


def _expiry_reason(offer: Offer, request: Request, today: date) -> str | None:
    """Dated stock must last until the need-by date (or today), unless expired stock is fine."""
    if offer.expires_on is None or request.accepts_expired:
        return None
    if offer.expires_on >= max(today, request.need_by or today):
        return None
    return "already expired" if offer.expires_on < today else "expires before need-by"


def _staffing_reason(offer: Offer, request: Request) -> str | None:
    """Every requested credential, a shared language if any is asked for, a shared hour."""
    missing = sorted(request.credentials - offer.credentials)
    if missing:
        return f"missing credential{'s' if len(missing) > 1 else ''} {', '.join(missing)}"
    if request.languages and not request.languages & offer.languages:
        return "no shared language"
    if overlap_hours(offer.windows, request.windows) < 1:
        return "no overlapping hours"
    return None
