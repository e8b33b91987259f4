"""Eligible pairs of a whole problem, with value and capacity, computed column-wise with numpy.

The rules are those of `eligibility` and `value`; this module applies them to arrays so a
snapshot of tens of thousands of listings is paired in well under a second. Requests look up
offers of the same kind and category through a grid (`geo.near_pairs`); staffing pairs where
both sides accept remote work are paired within their category regardless of distance.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from coalition.matching.geo import (
    BOUNDARY_KM,
    FloatArray,
    IntArray,
    expand_ranges,
    haversine_km,
    haversine_many,
    near_pairs,
)
from coalition.matching.model import URGENCY_WEIGHTS, Listing, Offer, Problem, Request
from coalition.matching.value import expiry_factor

BoolArray = npt.NDArray[np.bool_]
WordArray = npt.NDArray[np.uint64]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROS_PER_HOUR = 3_600_000_000
NO_EXPIRY = np.iinfo(np.int64).max
PAIR_BUDGET = 4_000_000  # window comparisons per chunk when computing shared hours


class Edge(NamedTuple):
    """An eligible pair: positions in `problem.offers` / `problem.requests`, value, capacity."""

    offer: int
    request: int
    value: float
    cap: int


@dataclass(frozen=True, slots=True)
class EdgeArrays:
    """Eligible pairs as parallel arrays, sorted by offer then request."""

    offer: IntArray
    request: IntArray
    value: FloatArray
    cap: IntArray

    def __len__(self) -> int:
        return len(self.offer)

    def edges(self) -> list[Edge]:
        """The same pairs as a list of `Edge` tuples."""
        columns = (self.offer.tolist(), self.request.tolist(), self.value.tolist(), self.cap.tolist())
        return [Edge(*row) for row in zip(*columns, strict=True)]


@dataclass(frozen=True, slots=True)
class Side:
    """One side's listings as columns; staffing columns are zero on supply listings."""

    lat: FloatArray
    lon: FloatArray
    radius: FloatArray
    org: IntArray
    group: IntArray
    quantity: IntArray
    staffing: BoolArray
    remote: BoolArray
    skills: WordArray  # credentials as bits
    tongues: WordArray  # languages as bits
    window_start: IntArray  # microseconds since the epoch, padded with empty windows
    window_end: IntArray


@dataclass(frozen=True, slots=True)
class OfferTerms:
    """Offer-only columns: last usable day and the expiry factor E."""

    expires: IntArray
    factor: FloatArray


@dataclass(frozen=True, slots=True)
class RequestTerms:
    """Request-only columns: urgency weight U, day the stock must last to, expired stock fine."""

    weight: FloatArray
    need: IntArray
    accepts_expired: BoolArray


class Vocabulary:
    """Stable small integers for strings (organizations, categories, credentials…)."""

    def __init__(self, words: Iterable[str] = ()) -> None:
        self._codes: dict[str, int] = {}
        for word in words:
            self.code(word)

    def __len__(self) -> int:
        return len(self._codes)

    def code(self, word: str) -> int:
        """The word's number, assigning the next one to a new word."""
        return self._codes.setdefault(word, len(self._codes))

    def bits(self, words: Iterable[str]) -> int:
        """Known words as a bit set; unknown words are ignored."""
        return sum(1 << self._codes[w] for w in set(words) if w in self._codes)


def candidate_pairs(problem: Problem) -> list[Edge]:
    """Every eligible pair of the problem with its value per unit and capacity."""
    return candidate_edges(problem).edges()


def candidate_edges(problem: Problem) -> EdgeArrays:
    """Every eligible pair of the problem, as arrays."""
    orgs, groups = Vocabulary(), Vocabulary()
    skills = Vocabulary(w for r in problem.requests for w in sorted(r.credentials))
    tongues = Vocabulary(w for r in problem.requests for w in sorted(r.languages))
    vocab = (orgs, groups, skills, tongues)
    offers, requests = _side(problem.offers, *vocab), _side(problem.requests, *vocab)
    o, r, dist = _located_pairs(offers, requests)
    keep = offers.org[o] != requests.org[r]
    o, r, dist = o[keep], r[keep], dist[keep]
    o_terms, r_terms = _offer_terms(problem.offers, problem.today), _request_terms(problem)
    keep = _fresh_enough(o_terms, r_terms, o, r) & _staff_qualified(offers, requests, o, r)
    o, r, dist = o[keep], r[keep], dist[keep]
    cap = _capacity(offers, requests, o, r)
    keep = cap > 0
    o, r, dist, cap = o[keep], r[keep], dist[keep], cap[keep]
    value = _values(offers, requests, o_terms, r_terms, o, r, dist)
    order = np.lexsort((r, o))
    return EdgeArrays(o[order], r[order], value[order], cap[order])


def _side(listings: Sequence[Listing], *vocab: Vocabulary) -> Side:
    """Columns for one side; the vocabularies are shared by both sides."""
    orgs, groups, skills, tongues = vocab
    windows = max((len(item.windows) for item in listings), default=0)
    start, end = _window_columns(listings, max(windows, 1))
    return Side(
        lat=np.array([item.lat for item in listings], dtype=np.float64),
        lon=np.array([item.lon for item in listings], dtype=np.float64),
        radius=np.array([item.max_distance_km for item in listings], dtype=np.float64),
        org=np.array([orgs.code(item.org) for item in listings], dtype=np.int64),
        group=np.array([groups.code(f"{i.kind}\0{i.category}") for i in listings], dtype=np.int64),
        quantity=np.array([item.quantity for item in listings], dtype=np.int64),
        staffing=np.array([item.kind == "staffing" for item in listings], dtype=np.bool_),
        remote=np.array([_remote(item) for item in listings], dtype=np.bool_),
        skills=_bit_columns([skills.bits(item.credentials) for item in listings], len(skills)),
        tongues=_bit_columns([tongues.bits(item.languages) for item in listings], len(tongues)),
        window_start=start,
        window_end=end,
    )


def _remote(listing: Listing) -> bool:
    """Remote flag, which only staffing listings carry."""
    return listing.kind == "staffing" and listing.remote_ok


def _bit_columns(bit_sets: list[int], size: int) -> WordArray:
    """Bit sets as rows of 64-bit words."""
    words = max(1, -(-size // 64))
    mask = (1 << 64) - 1
    rows = [[(bits >> (64 * w)) & mask for w in range(words)] for bits in bit_sets]
    return np.array(rows, dtype=np.uint64).reshape(len(bit_sets), words)


def _window_columns(listings: Sequence[Listing], width: int) -> tuple[IntArray, IntArray]:
    """Window starts and ends in microseconds, one row per listing, padded with empty windows."""
    start = np.zeros((len(listings), width), dtype=np.int64)
    end = np.zeros((len(listings), width), dtype=np.int64)
    for row, item in enumerate(listings):
        for col, (begin, finish) in enumerate(item.windows):
            start[row, col] = _micros(begin)
            end[row, col] = _micros(finish)
    return start, end


def _micros(moment: datetime) -> int:
    """Exact microseconds since the epoch."""
    return (moment - EPOCH) // timedelta(microseconds=1)


def _offer_terms(offers: Sequence[Offer], today: date) -> OfferTerms:
    """Expiry day (or none) and factor E for each offer."""
    days = [(o.expires_on - today).days if o.expires_on else None for o in offers]
    return OfferTerms(
        expires=np.array([_day(o.expires_on) for o in offers], dtype=np.int64),
        factor=np.array([expiry_factor(d) for d in days], dtype=np.float64),
    )


def _day(day: date | None) -> int:
    """Ordinal of a date, or the largest integer for 'never expires'."""
    return int(NO_EXPIRY) if day is None else day.toordinal()


def _request_terms(problem: Problem) -> RequestTerms:
    """Urgency weight, need day and expired-stock flag for each request."""
    today = problem.today
    requests = problem.requests
    return RequestTerms(
        weight=np.array([URGENCY_WEIGHTS[r.urgency] for r in requests], dtype=np.float64),
        need=np.array([max(today, r.need_by or today).toordinal() for r in requests], np.int64),
        accepts_expired=np.array([r.accepts_expired for r in requests], dtype=np.bool_),
    )


def _located_pairs(offers: Side, requests: Side) -> tuple[IntArray, IntArray, FloatArray]:
    """Same-category pairs close enough for both sides, and remote staffing pairs (distance)."""
    o, r, dist = _near_enough(offers, requests)
    local = ~(offers.remote[o] & requests.remote[r])  # remote pairs come from _remote_pairs
    o_remote, r_remote = _remote_pairs(offers, requests)
    d_remote = haversine_many(
        offers.lat[o_remote], offers.lon[o_remote], requests.lat[r_remote], requests.lon[r_remote]
    )
    return (
        np.concatenate([o[local], o_remote]),
        np.concatenate([r[local], r_remote]),
        np.concatenate([dist[local], d_remote]),
    )


def _near_enough(offers: Side, requests: Side) -> tuple[IntArray, IntArray, FloatArray]:
    """Same-category pairs within the smaller radius, with their distance."""
    reach = np.minimum(requests.radius, offers.radius.max(initial=0.0))
    r, o = near_pairs(
        requests.lat, requests.lon, reach, offers.lat, offers.lon, requests.group, offers.group
    )
    dist = haversine_many(offers.lat[o], offers.lon[o], requests.lat[r], requests.lon[r])
    limit = np.minimum(offers.radius[o], requests.radius[r])
    keep = dist <= limit + 2 * BOUNDARY_KM
    o, r, dist, limit = o[keep], r[keep], dist[keep], limit[keep]
    return _settle_boundary(offers, requests, o, r, dist, limit)


def _settle_boundary(
    offers: Side, requests: Side, o: IntArray, r: IntArray, dist: FloatArray, limit: FloatArray
) -> tuple[IntArray, IntArray, FloatArray]:
    """Decide pairs whose distance is within rounding of the limit with the scalar formula."""
    close = np.flatnonzero(np.abs(dist - limit) <= 2 * BOUNDARY_KM)
    keep = np.ones(len(o), dtype=np.bool_)
    for k in close.tolist():
        a, b = int(o[k]), int(r[k])
        exact = haversine_km(
            float(offers.lat[a]), float(offers.lon[a]), float(requests.lat[b]), float(requests.lon[b])
        )
        dist[k] = exact
        keep[k] = exact <= limit[k]
    return o[keep], r[keep], dist[keep]


def _remote_pairs(offers: Side, requests: Side) -> tuple[IntArray, IntArray]:
    """Every remote offer with every remote request of the same category."""
    ro, rr = np.flatnonzero(offers.remote), np.flatnonzero(requests.remote)
    ro = ro[np.argsort(offers.group[ro], kind="stable")]
    sorted_groups = offers.group[ro]
    start = np.searchsorted(sorted_groups, requests.group[rr], side="left")
    stop = np.searchsorted(sorted_groups, requests.group[rr], side="right")
    run, position = expand_ranges(start, stop - start)
    return ro[position], rr[run]


def _fresh_enough(o_terms: OfferTerms, r_terms: RequestTerms, o: IntArray, r: IntArray) -> BoolArray:
    """Dated stock lasts until max(today, need-by), unless the request takes expired stock."""
    return r_terms.accepts_expired[r] | (o_terms.expires[o] >= r_terms.need[r])


def _staff_qualified(offers: Side, requests: Side, o: IntArray, r: IntArray) -> BoolArray:
    """Every requested credential held, and a shared language when languages are requested."""
    skilled = ~np.any(requests.skills[r] & ~offers.skills[o], axis=1)
    asked = np.any(requests.tongues[r] != 0, axis=1)
    spoken = np.any(requests.tongues[r] & offers.tongues[o], axis=1)
    return skilled & (~asked | spoken)


def _capacity(offers: Side, requests: Side, o: IntArray, r: IntArray) -> IntArray:
    """min(quantities) and, for staffing pairs, the whole hours the windows share."""
    cap = np.minimum(offers.quantity[o], requests.quantity[r])
    staff = np.flatnonzero(offers.staffing[o])
    cap[staff] = np.minimum(cap[staff], _shared_hours(offers, requests, o[staff], r[staff]))
    return cap


def _shared_hours(offers: Side, requests: Side, o: IntArray, r: IntArray) -> IntArray:
    """Whole hours in the summed intersections of every pair of windows, chunk by chunk."""
    width = offers.window_start.shape[1] * requests.window_start.shape[1]
    step = max(1, PAIR_BUDGET // width)
    chunks = range(0, len(o), step)
    parts = [_hours_chunk(offers, requests, o[i : i + step], r[i : i + step]) for i in chunks]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def _hours_chunk(offers: Side, requests: Side, o: IntArray, r: IntArray) -> IntArray:
    """`_shared_hours` for one chunk of pairs."""
    start = np.maximum(offers.window_start[o][:, :, None], requests.window_start[r][:, None, :])
    end = np.minimum(offers.window_end[o][:, :, None], requests.window_end[r][:, None, :])
    overlap = np.clip(end - start, 0, None).sum(axis=(1, 2))
    return overlap // MICROS_PER_HOUR


def _values(
    offers: Side,
    requests: Side,
    o_terms: OfferTerms,
    r_terms: RequestTerms,
    o: IntArray,
    r: IntArray,
    dist: FloatArray,
) -> FloatArray:
    """U * D * E per pair; D is 1 for remote staffing pairs."""
    limit = np.minimum(offers.radius[o], requests.radius[r])
    d_factor = np.where(offers.remote[o] & requests.remote[r], 1.0, 1 - dist / (2 * limit))
    return r_terms.weight[r] * d_factor * o_terms.factor[o]
