"""Eligibility, shared hours, value factors and distance: one rule at a time."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pytest

from coalition.matching import (
    ineligibility_reason,
    is_eligible,
    overlap_hours,
    pair_cap,
    pair_value,
    value_factors,
)
from coalition.matching.eligibility import distance_km
from coalition.matching.geo import Grid, GridIndex, bounding_degrees, haversine_km, near_pairs
from coalition.matching.model import Offer, Request

from .builders import (
    HERE,
    TODAY,
    at,
    north_of,
    staff_offer,
    staff_request,
    supply_offer,
    supply_request,
)

DAY = timedelta(days=1)
FAR = north_of(40)  # 40 km north: beyond a 30 km request radius


@pytest.mark.parametrize(
    ("offer", "need", "reason"),
    [
        (supply_offer(), supply_request(), None),
        (supply_offer(org="B"), supply_request(), "same organization"),
        (supply_offer(category="syringes"), supply_request(), "different category"),
        (staff_offer(category="naloxone"), supply_request(), "different kind"),
        (supply_offer(lat=FAR), supply_request(), "too far (40.0 km > 30 km)"),
        (supply_offer(lat=FAR, max_distance_km=20), supply_request(max_distance_km=60),
         "too far (40.0 km > 20 km)"),
        (supply_offer(lat=north_of(29.9)), supply_request(), None),
        # expiry: lasts until max(today, need_by), unless expired stock is accepted
        (supply_offer(expires_on=None), supply_request(need_by=TODAY + 300 * DAY), None),
        (supply_offer(expires_on=TODAY + 9 * DAY), supply_request(need_by=TODAY + 9 * DAY), None),
        (supply_offer(expires_on=TODAY + 8 * DAY), supply_request(need_by=TODAY + 9 * DAY),
         "expires before need-by"),
        (supply_offer(expires_on=TODAY), supply_request(need_by=TODAY - 5 * DAY), None),
        (supply_offer(expires_on=TODAY - DAY), supply_request(need_by=TODAY - 5 * DAY),
         "already expired"),
        (supply_offer(expires_on=TODAY - DAY), supply_request(need_by=None), "already expired"),
        (supply_offer(expires_on=TODAY), supply_request(need_by=None), None),
        (supply_offer(expires_on=TODAY - 30 * DAY), supply_request(accepts_expired=True), None),
        # staffing: credentials, languages, hours
        (staff_offer(), staff_request(), None),
        (staff_offer(credentials=frozenset({"ny-license", "dea"})), staff_request(), None),
        (staff_offer(credentials=frozenset()), staff_request(), "missing credential ny-license"),
        (staff_offer(), staff_request(credentials=frozenset({"dea", "ny-license", "cdl"})),
         "missing credentials cdl, dea"),
        (staff_offer(credentials=frozenset()), staff_request(credentials=frozenset()), None),
        (staff_offer(languages=frozenset()), staff_request(languages=frozenset()), None),
        (staff_offer(languages=frozenset()), staff_request(languages=frozenset({"es"})),
         "no shared language"),
        (staff_offer(languages=frozenset({"en"})),
         staff_request(languages=frozenset({"es", "zh"})), "no shared language"),
        (staff_offer(), staff_request(languages=frozenset({"es", "zh"})), None),
        (staff_offer(windows=((at(9), at(12.99)),)), staff_request(), "no overlapping hours"),
        (staff_offer(windows=((at(9), at(13)),)), staff_request(), None),
        (staff_offer(windows=((at(9, day=2), at(17, day=2)),)), staff_request(),
         "no overlapping hours"),
        (staff_offer(windows=()), staff_request(), "no overlapping hours"),
        # remote staffing ignores distance only when both sides accept it
        (staff_offer(lat=FAR, remote_ok=True), staff_request(remote_ok=True), None),
        (staff_offer(lat=FAR, remote_ok=True), staff_request(), "too far (40.0 km > 10 km)"),
        (staff_offer(lat=FAR), staff_request(remote_ok=True), "too far (40.0 km > 10 km)"),
        (supply_offer(lat=FAR, remote_ok=True), supply_request(remote_ok=True),
         "too far (40.0 km > 30 km)"),
    ],
)  # fmt: skip
def test_eligibility_rules(offer: Offer, need: Request, reason: str | None) -> None:
    assert ineligibility_reason(offer, need, TODAY) == reason
    assert is_eligible(offer, need, TODAY) is (reason is None)


def test_a_pair_exactly_at_the_radius_is_eligible() -> None:
    offer, request = supply_offer(lat=north_of(30)), supply_request()
    limit = distance_km(offer, request)
    assert math.isclose(limit, 30, rel_tol=1e-12)
    at_limit = supply_request(max_distance_km=limit)
    assert is_eligible(offer, at_limit, TODAY)
    assert value_factors(offer, at_limit, TODAY).distance_factor == 0.5
    beyond = supply_request(max_distance_km=math.nextafter(limit, 0))
    assert not is_eligible(offer, beyond, TODAY)


@pytest.mark.parametrize(
    ("windows_a", "windows_b", "hours"),
    [
        (((at(9), at(17)),), ((at(12), at(20)),), 5),
        (((at(9), at(17)),), ((at(17), at(20)),), 0),
        (((at(9), at(10.5)),), ((at(9), at(10.5)),), 1),  # 1.5 h rounds down
        (((at(9), at(9.5)), (at(11), at(11.5))), ((at(9), at(12)),), 1),  # 2 x 30 min summed
        (((at(9), at(10.5)), (at(11), at(12.5))), ((at(9), at(13)),), 3),  # 1.5 + 1.5
        (((at(9), at(9.99)),), ((at(8), at(12)),), 0),
        ((), ((at(8), at(12)),), 0),
        (((at(23), at(25)),), ((at(0, day=2), at(6, day=2)),), 1),  # across midnight
    ],
)
def test_overlap_hours_sums_then_rounds_down(
    windows_a: tuple, windows_b: tuple, hours: int
) -> None:
    assert overlap_hours(windows_a, windows_b) == hours
    assert overlap_hours(windows_b, windows_a) == hours


def test_overlap_hours_compares_instants_across_offsets() -> None:
    from datetime import timezone as tz

    new_york = tz(timedelta(hours=-5))
    local = ((at(9).astimezone(new_york), at(17).astimezone(new_york)),)
    assert overlap_hours(local, ((at(12), at(20)),)) == 5


def test_pair_cap_is_the_smallest_of_quantities_and_hours() -> None:
    assert pair_cap(supply_offer(quantity=100), supply_request(quantity=40)) == 40
    assert pair_cap(supply_offer(quantity=7), supply_request(quantity=40)) == 7
    assert pair_cap(staff_offer(quantity=10), staff_request(quantity=6)) == 5  # 12:00-17:00
    assert pair_cap(staff_offer(quantity=3), staff_request(quantity=6)) == 3


@pytest.mark.parametrize(
    ("urgency", "weight"), [("critical", 8), ("high", 4), ("normal", 2), ("low", 1)]
)
def test_urgency_weights(urgency: str, weight: int) -> None:
    factors = value_factors(supply_offer(), supply_request(urgency=urgency), TODAY)
    assert factors.urgency_weight == weight
    assert factors.value == weight  # same place (D = 1), no expiry (E = 1)


@pytest.mark.parametrize(
    ("expires_on", "days", "factor"),
    [
        (None, None, 1.0),
        (TODAY + 60 * DAY, 60, 1.5),
        (TODAY + 61 * DAY, 61, 1.0),
        (TODAY, 0, 1.5),
        (TODAY - 3 * DAY, -3, 1.5),  # expired stock moved to a request that takes it
    ],
)
def test_short_dated_stock_is_worth_more(
    expires_on: date | None, days: int | None, factor: float
) -> None:
    factors = value_factors(supply_offer(expires_on=expires_on), supply_request(), TODAY)
    assert (factors.days_to_expiry, factors.expiry_factor) == (days, factor)


def test_distance_factor_runs_from_one_to_a_half() -> None:
    near = value_factors(supply_offer(), supply_request(), TODAY)
    half = value_factors(supply_offer(lat=north_of(15)), supply_request(), TODAY)
    assert near.distance_factor == 1.0
    assert math.isclose(half.distance_factor, 0.75, rel_tol=1e-12)  # 15 km of R = 30
    assert math.isclose(pair_value(supply_offer(lat=north_of(15)), supply_request(), TODAY), 1.5)


def test_remote_staffing_pairs_count_as_next_door() -> None:
    offer, request = staff_offer(lat=FAR, remote_ok=True), staff_request(remote_ok=True)
    factors = value_factors(offer, request, TODAY)
    assert factors.remote and factors.distance_factor == 1.0 and factors.expiry_factor == 1.0
    assert factors.value == 4


def test_haversine_known_distance() -> None:
    # JFK to LAX, about 3,974 km on this sphere
    assert math.isclose(haversine_km(40.6413, -73.7781, 33.9416, -118.4085), 3974, rel_tol=2e-3)
    assert haversine_km(*HERE, *HERE) == 0.0
    assert math.isclose(haversine_km(0, 179.9, 0, -179.9), 22.24, rel_tol=1e-3)


def _brute_force(q: np.ndarray, p: np.ndarray, radius: np.ndarray) -> set[tuple[int, int]]:
    """Index pairs within each query's radius, by checking every pair."""
    return {
        (i, j)
        for i in range(len(q))
        for j in range(len(p))
        if haversine_km(q[i, 0], q[i, 1], p[j, 0], p[j, 1]) <= radius[i]
    }


@pytest.mark.parametrize(
    ("centre", "spread"),
    [((40.7, -73.9), 0.5), ((0.0, 179.95), 0.2), ((89.5, 0.0), 1.0), ((-60.0, -179.0), 3.0)],
)
def test_grid_lookups_never_miss(centre: tuple[float, float], spread: float) -> None:
    rng = np.random.default_rng(5)

    def points(n: int) -> np.ndarray:
        lat = np.clip(centre[0] + rng.uniform(-spread, spread, n), -90, 90)
        lon = (centre[1] + rng.uniform(-spread, spread, n) + 180) % 360 - 180
        return np.column_stack([lat, lon])

    q, p = points(60), points(200)
    radius = rng.choice([1.0, 5.0, 20.0, 80.0, 300.0], len(q))
    expected = _brute_force(q, p, radius)
    a, b = near_pairs(q[:, 0], q[:, 1], radius, p[:, 0], p[:, 1])
    assert expected <= set(zip(a.tolist(), b.tolist(), strict=True))
    grid: GridIndex[int] = GridIndex()
    grid.add_many(list(range(len(p))), p[:, 0], p[:, 1])
    for i in range(len(q)):
        found = set(grid.near(float(q[i, 0]), float(q[i, 1]), float(radius[i])))
        assert {j for k, j in expected if k == i} <= found


def test_grid_cells_must_tile_the_globe() -> None:
    with pytest.raises(ValueError, match="does not divide 360"):
        Grid(0.07)


def test_grid_index_forgets_removed_points() -> None:
    grid: GridIndex[str] = GridIndex()
    grid.add_many(["a", "b"], np.array([40.7, 40.7]), np.array([-73.9, -73.9]))
    grid.discard("a")
    grid.discard("missing")
    assert grid.near(40.7, -73.9, 1.0) == ["b"] and len(grid) == 1


@pytest.mark.parametrize("lat", [-89.99, -45.0, 0.0, 40.7, 88.0, 90.0])
@pytest.mark.parametrize("radius", [0.1, 10.0, 500.0, 25_000.0])
def test_bounding_box_contains_the_circle(lat: float, radius: float) -> None:
    dlat, dlon = bounding_degrees(lat, radius)
    for bearing in np.linspace(0, 2 * np.pi, 72):
        # destination point at `radius` km along `bearing`
        delta, phi = radius / 6371.0088, math.radians(lat)
        phi2 = math.asin(math.sin(phi) * math.cos(delta)
                         + math.cos(phi) * math.sin(delta) * math.cos(bearing))  # fmt: skip
        lam = math.atan2(math.sin(bearing) * math.sin(delta) * math.cos(phi),
                         math.cos(delta) - math.sin(phi) * math.sin(phi2))  # fmt: skip
        assert abs(math.degrees(phi2) - lat) <= dlat + 1e-9
        assert abs((math.degrees(lam) + 180) % 360 - 180) <= dlon + 1e-9
