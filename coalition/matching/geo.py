"""Great-circle distance and grid indexes that find points near a point without all-pairs loops.

The grid is a filter that never misses: it returns every point within the radius, and some
beyond it; callers keep the points whose exact `haversine_km` distance is small enough.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

import numpy as np
import numpy.typing as npt

EARTH_RADIUS_KM: Final = 6371.0088
# Pairs whose vectorised distance lies this close to a limit are re-checked with the scalar
# formula, so numpy and `math` rounding differences never change a decision.
BOUNDARY_KM: Final = 1e-6

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
K = TypeVar("K", bound=Hashable)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km between two points given in degrees."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, a)))


def haversine_radians(
    phi1: FloatArray,
    lam1: FloatArray,
    cos_phi1: FloatArray,
    phi2: FloatArray,
    lam2: FloatArray,
    cos_phi2: FloatArray,
) -> FloatArray:
    """`haversine_km` element-wise, from radians and precomputed cosines of the latitudes.

    Rounding differs from `haversine_km` in the last bits; see BOUNDARY_KM.
    """
    a = np.sin((phi2 - phi1) / 2) ** 2 + cos_phi1 * cos_phi2 * np.sin((lam2 - lam1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(1.0, a)))


@dataclass(frozen=True, slots=True)
class Grid:
    """Square cells of `cell_deg` degrees over latitude and longitude."""

    cell_deg: float

    def __post_init__(self) -> None:
        # whole columns around the globe keep the antimeridian wrap-around exact
        if abs(360 / self.cell_deg - round(360 / self.cell_deg)) > 1e-9:
            raise ValueError(f"cell size {self.cell_deg} does not divide 360 degrees")

    @property
    def columns(self) -> int:
        """Cells around a parallel."""
        return math.ceil(360 / self.cell_deg)

    @property
    def rows(self) -> int:
        """Cells from pole to pole."""
        return math.floor(180 / self.cell_deg) + 1

    def cell_keys(self, lat: FloatArray, lon: FloatArray) -> IntArray:
        """One integer per point naming its cell; a row's cells have consecutive keys."""
        row = np.floor((lat + 90.0) / self.cell_deg).astype(np.int64)
        col = np.floor((lon + 180.0) / self.cell_deg).astype(np.int64) % self.columns
        return row * self.columns + col

    def cover(self, lat: FloatArray, lon: FloatArray, radius_km: FloatArray) -> Cover:
        """Runs of consecutive cell keys that together cover each circle."""
        dlat, dlon = _bounding_degrees(lat, radius_km)
        rows_lo = self._row(lat - dlat)
        rows_hi = self._row(lat + dlat)
        spans = _column_spans(
            np.floor((lon - dlon + 180.0) / self.cell_deg).astype(np.int64),
            np.floor((lon + dlon + 180.0) / self.cell_deg).astype(np.int64),
            self.columns,
        )
        owner, col_lo, col_hi = spans
        run_owner, rows = expand_ranges(rows_lo[owner], rows_hi[owner] - rows_lo[owner] + 1)
        first = rows * self.columns
        return Cover(owner[run_owner], first + col_lo[run_owner], first + col_hi[run_owner])

    def _row(self, lat: FloatArray) -> IntArray:
        """Row of each latitude, clamped to the poles."""
        return np.floor((np.clip(lat, -90.0, 90.0) + 90.0) / self.cell_deg).astype(np.int64)

    def cover_one(self, lat: float, lon: float, radius_km: float) -> list[tuple[int, int]]:
        """`cover` for a single circle, without numpy: runs (key_lo, key_hi)."""
        dlat, dlon = bounding_degrees(lat, radius_km)
        rows = range(self._row_one(lat - dlat), self._row_one(lat + dlat) + 1)
        lo = math.floor((lon - dlon + 180.0) / self.cell_deg)
        hi = math.floor((lon + dlon + 180.0) / self.cell_deg)
        spans = _column_spans_one(lo, hi, self.columns)
        return [(row * self.columns + a, row * self.columns + b) for row in rows for a, b in spans]

    def _row_one(self, lat: float) -> int:
        """Row of a latitude, clamped to the poles."""
        return math.floor((min(90.0, max(-90.0, lat)) + 90.0) / self.cell_deg)


@dataclass(frozen=True, slots=True)
class Cover:
    """Key runs `[key_lo, key_hi]`, each belonging to query number `owner`."""

    owner: IntArray
    key_lo: IntArray
    key_hi: IntArray


def bounding_degrees(lat: float, radius_km: float) -> tuple[float, float]:
    """Half-height and half-width in degrees of a box around a circle (slightly generous).

    The half-width is exact for a circle that does not reach a pole: asin(sin(r) / cos(lat)).
    """
    angle = radius_km / EARTH_RADIUS_KM * (1 + 1e-9) + 1e-12
    dlat = math.degrees(angle)
    ratio = math.sin(min(angle, math.pi / 2)) / math.cos(math.radians(lat))
    if ratio >= 1.0 or abs(lat) + dlat >= 90.0:
        return dlat, 180.0
    return dlat, math.degrees(math.asin(ratio))


def _bounding_degrees(lat: FloatArray, radius_km: FloatArray) -> tuple[FloatArray, FloatArray]:
    """`bounding_degrees` for arrays of circles."""
    angle = np.asarray(radius_km, dtype=np.float64) / EARTH_RADIUS_KM * (1 + 1e-9) + 1e-12
    dlat = np.degrees(angle)
    ratio = np.sin(np.minimum(angle, np.pi / 2)) / np.cos(np.radians(np.asarray(lat)))
    polar = (ratio >= 1.0) | (np.abs(lat) + dlat >= 90.0)
    dlon = np.where(polar, 180.0, np.degrees(np.arcsin(np.minimum(ratio, 1.0))))
    return dlat, dlon


def _column_spans(
    col_lo: IntArray, col_hi: IntArray, columns: int
) -> tuple[IntArray, IntArray, IntArray]:
    """Split column ranges that cross the antimeridian; return (owner, lo, hi) spans."""
    owner = np.arange(len(col_lo), dtype=np.int64)
    full = col_hi - col_lo + 1 >= columns
    lo, hi = np.where(full, 0, col_lo), np.where(full, columns - 1, col_hi)
    west = lo < 0  # the part beyond -180 wraps to the eastern end
    east = hi >= columns
    extra_owner = np.concatenate([owner[west], owner[east]])
    extra_lo = np.concatenate([lo[west] + columns, np.zeros(int(east.sum()), np.int64)])
    extra_hi = np.concatenate([np.full(int(west.sum()), columns - 1), hi[east] - columns])
    return (
        np.concatenate([owner, extra_owner]),
        np.concatenate([np.maximum(lo, 0), extra_lo]),
        np.concatenate([np.minimum(hi, columns - 1), extra_hi]),
    )


def _column_spans_one(lo: int, hi: int, columns: int) -> list[tuple[int, int]]:
    """`_column_spans` for one range."""
    if hi - lo + 1 >= columns:
        return [(0, columns - 1)]
    if lo < 0:
        return [(lo + columns, columns - 1), (0, hi)]
    if hi >= columns:
        return [(lo, columns - 1), (0, hi - columns)]
    return [(lo, hi)]


def expand_ranges(starts: IntArray, counts: IntArray) -> tuple[IntArray, IntArray]:
    """For runs `starts[i] .. starts[i] + counts[i] - 1`, return (run number, value) pairs."""
    counts = np.maximum(counts, 0)
    run = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    offsets = np.arange(len(run), dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    return run, starts[run] + offsets


def near_pairs(
    query_lat: FloatArray,
    query_lon: FloatArray,
    radius_km: FloatArray,
    point_lat: FloatArray,
    point_lon: FloatArray,
    query_group: IntArray | None = None,
    point_group: IntArray | None = None,
    cell_deg: float = 0.05,
) -> tuple[IntArray, IntArray]:
    """(query, point) index pairs: every point within each query's radius, plus some beyond.

    With groups, a query only meets points of its own group (one grid per group, in effect).
    """
    grid = Grid(cell_deg)
    cells = grid.rows * grid.columns
    keys = grid.cell_keys(point_lat, point_lon)
    if point_group is not None:
        keys = keys + point_group * cells
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    cover = grid.cover(query_lat, query_lon, radius_km)
    offset = 0 if query_group is None else query_group[cover.owner] * cells
    start = np.searchsorted(sorted_keys, cover.key_lo + offset, side="left")
    stop = np.searchsorted(sorted_keys, cover.key_hi + offset, side="right")
    run, position = expand_ranges(start, stop - start)
    return cover.owner[run], order[position]


class GridIndex(Generic[K]):
    """Points that come and go, bucketed by cell, for radius queries one at a time."""

    def __init__(self, cell_deg: float = 0.1) -> None:
        self._grid = Grid(cell_deg)
        self._cells: dict[int, dict[K, None]] = {}
        self._cell_of: dict[K, int] = {}

    def __len__(self) -> int:
        return len(self._cell_of)

    def add_many(self, keys: Sequence[K], lat: FloatArray, lon: FloatArray) -> None:
        """Insert points (keys must be new)."""
        for key, cell in zip(keys, self._grid.cell_keys(lat, lon).tolist(), strict=True):
            self._cells.setdefault(cell, {})[key] = None
            self._cell_of[key] = cell

    def discard(self, key: K) -> None:
        """Remove a point if present."""
        cell = self._cell_of.pop(key, None)
        if cell is None:
            return
        members = self._cells[cell]
        del members[key]
        if not members:
            del self._cells[cell]

    def near(self, lat: float, lon: float, radius_km: float) -> list[K]:
        """Every key within `radius_km` of the point, and some beyond it."""
        runs = self._grid.cover_one(lat, lon, radius_km)
        if sum(hi - lo + 1 for lo, hi in runs) > len(self._cells):
            return self._scan_occupied(runs)
        found: list[K] = []
        cells = self._cells
        for lo, hi in runs:
            for cell in range(lo, hi + 1):
                if cell in cells:
                    found.extend(cells[cell])
        return found

    def _scan_occupied(self, runs: list[tuple[int, int]]) -> list[K]:
        """Keys in occupied cells that fall in the runs (when fewer cells are occupied)."""
        runs = sorted(runs)
        starts = [lo for lo, _ in runs]
        found: list[K] = []
        for cell, members in self._cells.items():
            at = bisect_right(starts, cell) - 1
            if at >= 0 and cell <= runs[at][1]:
                found.extend(members)
        return found
