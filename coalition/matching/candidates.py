"""Eligible pairs of a whole problem, with value and capacity, computed column-wise with numpy.

Requests and offers of the same kind and category meet through a grid (`geo.near_pairs`),
each pair looked up from the side with the smaller radius; staffing pairs where both sides
accept remote work are paired within their category regardless of distance. The rules are
then applied to the arrays of pairs (`columns`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, NamedTuple

import numpy as np

from coalition.matching.columns import (
    BoolArray,
    Columns,
    Names,
    Pairs,
    aligned,
    capacity,
    columns_of,
    distances,
    eligible,
    hour_limits,
    values,
)
from coalition.matching.geo import FloatArray, IntArray, expand_ranges, near_pairs
from coalition.matching.model import Problem

RADIUS_CLASSES: Final = 12


class Edge(NamedTuple):
    """An eligible pair: positions in `problem.offers` / `problem.requests`, value, capacity."""

    offer: int
    request: int
    value: float
    cap: int


@dataclass(frozen=True, slots=True)
class EdgeArrays:
    """Eligible pairs as parallel arrays, sorted by category, then offer, then request.

    `group` numbers the (kind, category) of each pair; pairs of different groups share no
    listing, so each group is an independent flow problem.
    """

    offer: IntArray
    request: IntArray
    value: FloatArray
    cap: IntArray
    group: IntArray

    def __len__(self) -> int:
        return len(self.offer)

    def edges(self) -> list[Edge]:
        """The same pairs as a list of `Edge` tuples."""
        columns = (
            self.offer.tolist(),
            self.request.tolist(),
            self.value.tolist(),
            self.cap.tolist(),
        )
        return [Edge(*row) for row in zip(*columns, strict=True)]

    def subset(self, positions: IntArray | slice) -> EdgeArrays:
        """The pairs at the given positions."""
        return EdgeArrays(
            self.offer[positions],
            self.request[positions],
            self.value[positions],
            self.cap[positions],
            self.group[positions],
        )


def candidate_pairs(problem: Problem) -> list[Edge]:
    """Every eligible pair of the problem with its value per unit and capacity."""
    return candidate_edges(problem).edges()


def candidate_edges(problem: Problem) -> EdgeArrays:
    """Every eligible pair of the problem, as arrays."""
    names = Names()
    offers, requests = aligned(
        columns_of(problem.offers, names), columns_of(problem.requests, names)
    )
    pairs = _located_pairs(offers, requests)
    pairs = pairs.where(eligible(offers, requests, pairs, problem.today))
    cap = capacity(offers, requests, pairs, hour_limits(offers, requests, pairs))
    pairs, cap = pairs.where(cap > 0), cap[cap > 0]
    value = values(offers, requests, pairs, problem.today)
    group = offers.group[pairs.offer]
    order = np.lexsort((pairs.request, pairs.offer, group))
    return EdgeArrays(pairs.offer, pairs.request, value, cap, group).subset(order)


def _located_pairs(offers: Columns, requests: Columns) -> Pairs:
    """Same-category pairs that may be close enough, and every remote staffing pair."""
    o_near, r_near = _near(offers, requests)
    local = ~(offers.remote[o_near] & requests.remote[r_near])  # remote pairs come next
    o_remote, r_remote = _remote_pairs(offers, requests)
    o = np.concatenate([o_near[local], o_remote])
    r = np.concatenate([r_near[local], r_remote])
    return Pairs(o, r, distances(offers, requests, o, r))


def _near(offers: Columns, requests: Columns) -> tuple[IntArray, IntArray]:
    """Same-category pairs within the smaller radius, and some farther apart.

    A pair is looked up from the side whose radius class is smaller, with that side's
    radius, so the cells searched are not much larger than the answer.
    """
    o_class, r_class = _radius_classes(offers.radius, requests.radius)
    found = [(np.zeros(0, np.int64), np.zeros(0, np.int64))]
    for c in np.unique(np.concatenate([o_class, r_class])).tolist():
        r, o = _look_up(requests, r_class == c, offers, o_class >= c)
        found.append((o, r))
        found.append(_look_up(offers, o_class == c, requests, r_class > c))
    return np.concatenate([f[0] for f in found]), np.concatenate([f[1] for f in found])


def _radius_classes(a: FloatArray, b: FloatArray) -> tuple[IntArray, IntArray]:
    """A few classes ordered by radius (one per distinct radius when there are few)."""
    radii = np.unique(np.concatenate([a, b]))
    if len(radii) > RADIUS_CLASSES:
        radii = radii[np.linspace(0, len(radii) - 1, RADIUS_CLASSES).astype(np.int64)]
    return np.searchsorted(radii, a), np.searchsorted(radii, b)


def _look_up(
    queries: Columns, query_rows: BoolArray, points: Columns, point_rows: BoolArray
) -> tuple[IntArray, IntArray]:
    """(query, point) rows of the chosen rows, with points near each query (within its radius)."""
    q, p = np.flatnonzero(query_rows), np.flatnonzero(point_rows)
    a, b = near_pairs(
        queries.lat[q], queries.lon[q], queries.radius[q],
        points.lat[p], points.lon[p], queries.group[q], points.group[p],
    )  # fmt: skip
    return q[a], p[b]


def _remote_pairs(offers: Columns, requests: Columns) -> tuple[IntArray, IntArray]:
    """Every remote offer with every remote request of the same category."""
    ro, rr = np.flatnonzero(offers.remote), np.flatnonzero(requests.remote)
    ro = ro[np.argsort(offers.group[ro], kind="stable")]
    sorted_groups = offers.group[ro]
    start = np.searchsorted(sorted_groups, requests.group[rr], side="left")
    stop = np.searchsorted(sorted_groups, requests.group[rr], side="right")
    run, position = expand_ranges(start, stop - start)
    return ro[position], rr[run]
