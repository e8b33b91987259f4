"""Value of one unit moved on a pair (MATCHING.md, "Value of one unit on a pair")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final

from coalition.matching.eligibility import distance_km, is_remote_pair, radius_km
from coalition.matching.model import URGENCY_WEIGHTS, Offer, Request

SHORT_DATED_DAYS: Final = 60
SHORT_DATED_FACTOR: Final = 1.5


@dataclass(frozen=True, slots=True)
class ValueFactors:
    """The parts of a pair's value, kept for explanations."""

    urgency: str
    urgency_weight: int
    distance_km: float
    radius_km: float
    remote: bool
    distance_factor: float
    days_to_expiry: int | None
    expiry_factor: float
    value: float


def days_to_expiry(offer: Offer, today: date) -> int | None:
    """Days from today until a supply offer expires (negative once expired), None if undated."""
    if offer.kind != "supply" or offer.expires_on is None:
        return None
    return (offer.expires_on - today).days


def expiry_factor(days: int | None) -> float:
    """E: short-dated stock is worth more when it moves."""
    return SHORT_DATED_FACTOR if days is not None and days <= SHORT_DATED_DAYS else 1.0


def value_factors(
    offer: Offer, request: Request, today: date, distance: float | None = None
) -> ValueFactors:
    """U, D and E for the pair and their product (D drops below 0.5 beyond the radius)."""
    remote = is_remote_pair(offer, request)
    limit = radius_km(offer, request)
    if distance is None:
        distance = distance_km(offer, request)
    d_factor = 1.0 if remote else 1 - distance / (2 * limit)
    days = days_to_expiry(offer, today)
    weight = URGENCY_WEIGHTS[request.urgency]
    return ValueFactors(
        urgency=request.urgency,
        urgency_weight=weight,
        distance_km=distance,
        radius_km=limit,
        remote=remote,
        distance_factor=d_factor,
        days_to_expiry=days,
        expiry_factor=expiry_factor(days),
        value=weight * d_factor * expiry_factor(days),
    )


def pair_value(offer: Offer, request: Request, today: date) -> float:
    """Value of one unit (or hour) moved from the offer to the request."""
    return value_factors(offer, request, today).value
