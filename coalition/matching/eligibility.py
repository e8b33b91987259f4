"""Which offer can serve which request (MATCHING.md, "Eligible pairs"), and why not."""

from __future__ import annotations

from collections.abc import Callable, Sequence
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


def ineligibility_reason(offer: Offer, request: Request, today: date) -> str | None:
    """Why the offer cannot serve the request, or None when it can."""
    for check in _CHECKS:
        reason = check(offer, request, today)
        if reason is not None:
            return reason
    return None


def is_eligible(offer: Offer, request: Request, today: date) -> bool:
    """True when the offer can serve the request."""
    return ineligibility_reason(offer, request, today) is None


def _kind_reason(offer: Offer, request: Request, today: date) -> str | None:
    """Kind and category must match."""
    if offer.kind != request.kind:
        return "different kind"
    return "different category" if offer.category != request.category else None


def _org_reason(offer: Offer, request: Request, today: date) -> str | None:
    """An organization does not match with itself."""
    return "same organization" if offer.org == request.org else None


def _distance_reason(offer: Offer, request: Request, today: date) -> str | None:
    """Within the smaller of the two radii, unless a remote staffing pair."""
    if is_remote_pair(offer, request):
        return None
    distance, limit = distance_km(offer, request), radius_km(offer, request)
    return f"too far ({distance:.1f} km > {limit:g} km)" if distance > limit else None


def _expiry_reason(offer: Offer, request: Request, today: date) -> str | None:
    """Dated stock must last until the need-by date (or today), unless expired stock is fine."""
    if offer.kind != "supply" or offer.expires_on is None or request.accepts_expired:
        return None
    if offer.expires_on >= max(today, request.need_by or today):
        return None
    return "already expired" if offer.expires_on < today else "expires before need-by"


def _credential_reason(offer: Offer, request: Request, today: date) -> str | None:
    """Staff must hold every credential the request asks for."""
    missing = sorted(request.credentials - offer.credentials)
    if offer.kind != "staffing" or not missing:
        return None
    return f"missing credential{'s' if len(missing) > 1 else ''} {', '.join(missing)}"


def _language_reason(offer: Offer, request: Request, today: date) -> str | None:
    """Staff must speak one of the requested languages, when any are requested."""
    if offer.kind != "staffing" or not request.languages:
        return None
    return None if request.languages & offer.languages else "no shared language"


def _hours_reason(offer: Offer, request: Request, today: date) -> str | None:
    """Availability must overlap by at least one whole hour."""
    if offer.kind != "staffing" or overlap_hours(offer.windows, request.windows) >= 1:
        return None
    return "no overlapping hours"


_CHECKS: tuple[Callable[[Offer, Request, date], str | None], ...] = (
    _kind_reason,
    _org_reason,
    _distance_reason,
    _expiry_reason,
    _credential_reason,
    _language_reason,
    _hours_reason,
)
