"""Small builders of offers and requests for table-driven tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from coalition.matching import Offer, Request

TODAY = date(2026, 11, 26)
HERE = (40.70, -73.90)


def at(hour: float, day: int = 1) -> datetime:
    """A moment on 2026-12-<day>, UTC, `hour` hours after midnight (fractions allowed)."""
    return datetime(2026, 12, day, tzinfo=UTC) + timedelta(minutes=round(hour * 60))


def supply_offer(**changes: Any) -> Offer:
    """A supply offer of org A, 100 units, 50 km, no expiry, at HERE."""
    base = Offer(id="o", org="A", kind="supply", category="naloxone", quantity=100,
                 lat=HERE[0], lon=HERE[1], max_distance_km=50)  # fmt: skip
    return replace(base, **changes)


def supply_request(**changes: Any) -> Request:
    """A supply request of org B, 40 units, normal urgency, 30 km, at HERE."""
    base = Request(id="r", org="B", kind="supply", category="naloxone", quantity=40,
                   urgency="normal", lat=HERE[0], lon=HERE[1], max_distance_km=30)  # fmt: skip
    return replace(base, **changes)


def staff_offer(**changes: Any) -> Offer:
    """A nurse of org A, 10 hours, 09:00-17:00 on Dec 1, English and Spanish, ny-license."""
    base = Offer(id="o", org="A", kind="staffing", category="nurse", quantity=10,
                 lat=HERE[0], lon=HERE[1], max_distance_km=25,
                 credentials=frozenset({"ny-license"}), languages=frozenset({"en", "es"}),
                 windows=((at(9), at(17)),))  # fmt: skip
    return replace(base, **changes)


def staff_request(**changes: Any) -> Request:
    """A request of org B for 6 nurse hours, 12:00-20:00 on Dec 1, needing ny-license."""
    base = Request(id="r", org="B", kind="staffing", category="nurse", quantity=6,
                   urgency="high", lat=HERE[0], lon=HERE[1], max_distance_km=10,
                   credentials=frozenset({"ny-license"}), windows=((at(12), at(20)),))  # fmt: skip
    return replace(base, **changes)


def north_of(km: float) -> float:
    """Latitude `km` north of HERE along the meridian (exact for the haversine)."""
    return HERE[0] + km / 6371.0088 * 180 / 3.141592653589793
