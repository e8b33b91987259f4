"""Seeded random problems shaped like the contract's samples, as problem JSON.

18 categories (12 supplies, 6 staff roles), radii of 5-100 km, half offers and half
requests, organizations clustered around the five boroughs. The "metro" spread keeps the
samples' density (listings per km^2 of large-1500) by widening the area with the square root
of the count, as a growing coalition reaches further out; the "nyc" spread packs everything
into the city, so pairs multiply with the square of the count (a stress case).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

import numpy as np

TODAY: Final = date(2026, 11, 26)
BOROUGHS: Final = [
    (40.7831, -73.9712),
    (40.6782, -73.9442),
    (40.7282, -73.7949),
    (40.8448, -73.8648),
    (40.5795, -74.1502),
    (40.7357, -74.1724),
    (40.9312, -73.8987),
    (40.7400, -73.6000),
]
CENTRE: Final = (40.73, -73.94)
SUPPLIES: Final = [
    "naloxone-nasal-4mg",
    "naloxone-im-vial",
    "fentanyl-test-strips",
    "xylazine-test-strips",
    "syringes-1ml-28g",
    "syringes-3ml-25g",
    "sharps-container-1qt",
    "wound-care-kit",
    "hygiene-kit",
    "safer-smoking-kit",
    "nitrile-gloves",
    "condoms",
]
ROLES: Final = {
    "prescriber": ["dea-registration", "ny-license"],
    "registered-nurse": ["ny-license"],
    "peer-specialist": ["ny-cprs"],
    "counselor": ["casac"],
    "driver": ["cdl"],
    "outreach-worker": [],
}
LANGUAGES: Final = ["en", "es", "zh", "ru", "bn", "ht"]
RADII: Final = [5, 10, 25, 50, 100]
URGENCIES: Final = (["critical", "high", "normal", "low"], [0.1, 0.28, 0.45, 0.17])
SAMPLE_DENSITY_LISTINGS: Final = 3000  # large-1500 covers the city with 3,000 listings
SPREADS: Final = ("metro", "nyc")


def generate_problem(listings: int, seed: int, spread: str = "metro") -> dict[str, Any]:
    """A problem of `listings` listings from `seed`; the same arguments give the same problem."""
    if spread not in SPREADS:
        raise ValueError(f"spread must be one of {', '.join(SPREADS)}")
    factor = math.sqrt(max(1.0, listings / SAMPLE_DENSITY_LISTINGS)) if spread == "metro" else 1.0
    return Generator(np.random.default_rng(seed), factor).problem(listings)


@dataclass
class Generator:
    """Random problems shaped like the contract's samples."""

    rng: np.random.Generator
    spread: float  # 1.0 = the samples' city-sized area

    def problem(self, listings: int) -> dict[str, Any]:
        """A problem with `listings` listings, half offers and half requests."""
        orgs = [self._place() for _ in range(max(8, listings // 12))]
        half = listings // 2
        return {
            "today": TODAY.isoformat(),
            "offers": [self._listing(f"o{i}", orgs, offer=True) for i in range(half)],
            "requests": [self._listing(f"r{i}", orgs, offer=False) for i in range(listings - half)],
        }

    def _place(self) -> tuple[float, float]:
        """An organization's location: near a borough centre, scaled by the spread."""
        lat, lon = BOROUGHS[int(self.rng.integers(len(BOROUGHS)))]
        lat = CENTRE[0] + (lat - CENTRE[0]) * self.spread + self.rng.normal(0, 0.06 * self.spread)
        lon = CENTRE[1] + (lon - CENTRE[1]) * self.spread + self.rng.normal(0, 0.08 * self.spread)
        return float(np.clip(lat, -89, 89)), float((lon + 180) % 360 - 180)

    def _listing(self, lid: str, orgs: list[tuple[float, float]], offer: bool) -> dict[str, Any]:
        """One offer or request of a random organization."""
        org = int(self.rng.integers(len(orgs)))
        staffing = self.rng.random() < 0.3
        listing: dict[str, Any] = {
            "id": lid,
            "org": f"org{org}",
            "kind": "staffing" if staffing else "supply",
            "lat": orgs[org][0],
            "lon": orgs[org][1],
            "max_distance_km": int(self.rng.choice(RADII)),
        }
        listing.update(self._staffing(offer) if staffing else self._supply(offer))
        if not offer:
            listing["urgency"] = str(self.rng.choice(URGENCIES[0], p=URGENCIES[1]))
        return listing

    def _supply(self, offer: bool) -> dict[str, Any]:
        """Category, quantity and dates of a supply listing."""
        fields: dict[str, Any] = {
            "category": str(self.rng.choice(SUPPLIES)),
            "quantity": int(np.clip(self.rng.lognormal(4.3, 0.9), 2, 700)),
        }
        if offer:
            dated = self.rng.random() < 0.7
            days = int(self.rng.integers(-20, 400))
            fields["expires_on"] = (TODAY + timedelta(days)).isoformat() if dated else None
        else:
            fields["need_by"] = (TODAY + timedelta(int(self.rng.integers(0, 90)))).isoformat()
            fields["accepts_expired"] = bool(self.rng.random() < 0.15)
        return fields

    def _staffing(self, offer: bool) -> dict[str, Any]:
        """Role, hours, credentials, languages and windows of a staffing listing."""
        role = str(self.rng.choice(list(ROLES)))
        credentials = list(ROLES[role])
        if offer and self.rng.random() < 0.2:
            credentials.append("naloxone-trainer")
        if not offer and credentials and self.rng.random() < 0.2:
            credentials = credentials[:1]
        spoken = int(self.rng.integers(1, 3)) if offer else int(self.rng.integers(0, 2))
        return {
            "category": role,
            "quantity": int(self.rng.integers(4, 41)),
            "credentials": credentials,
            "languages": [str(x) for x in self.rng.choice(LANGUAGES, spoken, replace=False)],
            "remote_ok": bool(self.rng.random() < 0.3),
            "windows": [self._window() for _ in range(int(self.rng.integers(1, 4)))],
        }

    def _window(self) -> list[str]:
        """A shift of 4-10 hours within the next three weeks."""
        start = datetime(2026, 11, 27, tzinfo=UTC) + timedelta(
            days=int(self.rng.integers(0, 21)), hours=int(self.rng.integers(7, 15))
        )
        end = start + timedelta(hours=int(self.rng.integers(4, 11)))
        return [start.isoformat(), end.isoformat()]
