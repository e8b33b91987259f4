"""Listings as numpy columns, and the rules of MATCHING.md applied to arrays of pairs.

`eligibility` and `value` state the rules for one pair; these functions apply the same rules
to many pairs at once, for the whole-problem pairing (`candidates`) and for the per-event
lookups (`index`). Tests check that both agree with the one-pair functions.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Final

import numpy as np
import numpy.typing as npt

from coalition.matching.geo import (
    BOUNDARY_KM,
    FloatArray,
    IntArray,
    haversine_km,
    haversine_radians,
)
from coalition.matching.model import URGENCY_WEIGHTS, Listing, Offer, Request
from coalition.matching.value import SHORT_DATED_DAYS, SHORT_DATED_FACTOR

BoolArray = npt.NDArray[np.bool_]
WordArray = npt.NDArray[np.uint64]
EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
MICROS_PER_HOUR: Final = 3_600_000_000
NO_EXPIRY: Final = int(np.iinfo(np.int64).max) // 2  # far beyond any date, safe to subtract from
NO_LIMIT: Final = int(np.iinfo(np.int64).max)
WORD_MASK: Final = (1 << 64) - 1
PAIR_BUDGET: Final = 4_000_000  # window comparisons per chunk when counting shared hours
_WIDE: Final = ("skills", "tongues", "window_start", "window_end")  # two-dimensional columns


class Vocabulary:
    """Stable small integers for strings (organizations, categories, credentials…)."""

    def __init__(self) -> None:
        self._codes: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._codes)

    def codes(self, words: Iterable[str]) -> IntArray:
        """The number of each word, assigning the next free one to new words."""
        codes = self._codes
        return np.array([codes.setdefault(w, len(codes)) for w in words], dtype=np.int64)

    def bits(self, words: Iterable[str]) -> int:
        """The words as a bit set (new words get numbers too)."""
        codes = self._codes
        return sum(1 << codes.setdefault(w, len(codes)) for w in sorted(set(words)))


@dataclass(frozen=True, slots=True)
class Names:
    """The vocabularies shared by every set of columns that will be paired together."""

    orgs: Vocabulary = dataclasses.field(default_factory=Vocabulary)
    groups: Vocabulary = dataclasses.field(default_factory=Vocabulary)
    credentials: Vocabulary = dataclasses.field(default_factory=Vocabulary)
    languages: Vocabulary = dataclasses.field(default_factory=Vocabulary)


@dataclass(frozen=True, slots=True)
class Columns:
    """Listings as columns, one row each; fields that do not apply to a row hold neutral values.

    Offer-only: `expires` (day ordinal, NO_EXPIRY when undated or staffing). Request-only:
    `need_by` (day ordinal, 0 when none), `weight` (U), `accepts_expired`. Staffing-only:
    `remote`, `skills` and `tongues` (credentials and languages as bits), windows (as
    microseconds since the epoch, padded with empty windows).
    """

    lat: FloatArray
    lon: FloatArray
    phi: FloatArray  # latitude in radians
    lam: FloatArray  # longitude in radians
    cos_phi: FloatArray
    radius: FloatArray
    org: IntArray
    group: IntArray
    quantity: IntArray
    staffing: BoolArray
    remote: BoolArray
    skills: WordArray
    tongues: WordArray
    window_start: IntArray
    window_end: IntArray
    expires: IntArray
    need_by: IntArray
    weight: FloatArray
    accepts_expired: BoolArray
    blocked: BoolArray  # requests whose organization may not receive the category

    def __len__(self) -> int:
        return len(self.lat)


@dataclass(frozen=True, slots=True)
class Pairs:
    """Offer and request rows of candidate pairs, with their distance in km."""

    offer: IntArray
    request: IntArray
    distance: FloatArray

    def where(self, keep: BoolArray) -> Pairs:
        """The pairs where `keep` is true."""
        return Pairs(self.offer[keep], self.request[keep], self.distance[keep])


def columns_of(listings: Sequence[Listing], names: Names) -> Columns:
    """Columns for the listings, numbering names with the shared vocabularies."""
    n = len(listings)
    place = np.array([(i.lat, i.lon, i.max_distance_km) for i in listings], np.float64)
    lat, lon, radius = (np.ascontiguousarray(column) for column in place.reshape(n, 3).T)
    staff = [k for k, item in enumerate(listings) if item.kind == "staffing"]
    window_start, window_end = _windows(listings, staff)
    requests = [item if isinstance(item, Request) else None for item in listings]
    return Columns(
        lat=lat,
        lon=lon,
        phi=np.radians(lat),
        lam=np.radians(lon),
        cos_phi=np.cos(np.radians(lat)),
        radius=radius,
        org=names.orgs.codes(item.org for item in listings),
        group=names.groups.codes(f"{item.kind}\0{item.category}" for item in listings),
        quantity=np.array([item.quantity for item in listings], dtype=np.int64),
        staffing=_mask(n, staff),
        remote=_mask(n, [k for k in staff if listings[k].remote_ok]),
        skills=_bits(n, staff, [names.credentials.bits(listings[k].credentials) for k in staff]),
        tongues=_bits(n, staff, [names.languages.bits(listings[k].languages) for k in staff]),
        window_start=window_start,
        window_end=window_end,
        expires=np.array([_expiry_day(item) for item in listings], dtype=np.int64),
        need_by=np.array(
            [r.need_by.toordinal() if r and r.need_by else 0 for r in requests], np.int64
        ),
        weight=np.array([URGENCY_WEIGHTS[r.urgency] if r else 0 for r in requests], np.float64),
        accepts_expired=np.array([bool(r and r.accepts_expired) for r in requests], np.bool_),
        blocked=np.array([bool(r and r.ineligible) for r in requests], np.bool_),
    )


def _mask(size: int, rows: list[int]) -> BoolArray:
    """A boolean column true at the given rows."""
    mask = np.zeros(size, dtype=np.bool_)
    mask[rows] = True
    return mask


def _bits(size: int, rows: list[int], bit_sets: list[int]) -> WordArray:
    """Bit sets at the given rows as 64-bit words, zero elsewhere."""
    words = max(1, -(-max(bit_sets, default=0).bit_length() // 64))
    columns = np.zeros((size, words), dtype=np.uint64)
    for row, bits in zip(rows, bit_sets, strict=True):
        for word in range(words):
            columns[row, word] = (bits >> (64 * word)) & WORD_MASK
    return columns


def _windows(listings: Sequence[Listing], rows: list[int]) -> tuple[IntArray, IntArray]:
    """Window starts and ends at the given rows, padded with empty windows."""
    width = max((len(listings[row].windows) for row in rows), default=1)
    start = np.zeros((len(listings), max(width, 1)), dtype=np.int64)
    end = np.zeros_like(start)
    for row in rows:
        for col, (begin, finish) in enumerate(listings[row].windows):
            start[row, col] = _micros(begin)
            end[row, col] = _micros(finish)
    return start, end


def _micros(moment: datetime) -> int:
    """Exact microseconds since the epoch."""
    return (moment - EPOCH) // timedelta(microseconds=1)


def _expiry_day(listing: Listing) -> int:
    """Expiry day of a dated supply offer; NO_EXPIRY for everything else."""
    if isinstance(listing, Offer) and listing.expires_on is not None:
        return listing.expires_on.toordinal()
    return NO_EXPIRY


# ---------------------------------------------------------------- shape


def aligned(a: Columns, b: Columns) -> tuple[Columns, Columns]:
    """Both column sets padded to the same number of bit words and windows."""
    wide = {name: max(width, widths(b)[name]) for name, width in widths(a).items()}
    return widened(a, wide), widened(b, wide)


def widened(columns: Columns, widths: dict[str, int]) -> Columns:
    """Pad the two-dimensional columns with zeros (no bits, empty windows) to the widths."""
    changes = {}
    for name, width in widths.items():
        column = getattr(columns, name)
        if column.shape[1] < width:
            changes[name] = np.pad(column, ((0, 0), (0, width - column.shape[1])))
    return dataclasses.replace(columns, **changes) if changes else columns


def resized(columns: Columns, rows: int) -> Columns:
    """The columns with room for `rows` rows (new rows are zero)."""
    changes = {}
    for field in dataclasses.fields(Columns):
        column = getattr(columns, field.name)
        grown = np.zeros((rows, *column.shape[1:]), dtype=column.dtype)
        grown[: min(rows, len(column))] = column[:rows]
        changes[field.name] = grown
    return Columns(**changes)


def put_rows(columns: Columns, start: int, source: Columns) -> None:
    """Copy every row of `source` (at most as wide as `columns`) to rows from `start` on."""
    stop = start + len(source)
    for field in dataclasses.fields(Columns):
        target, rows = getattr(columns, field.name), getattr(source, field.name)
        if target.ndim == 1:
            target[start:stop] = rows
        else:
            target[start:stop] = 0
            target[start:stop, : rows.shape[1]] = rows


def widths(columns: Columns) -> dict[str, int]:
    """Widths of the two-dimensional columns."""
    return {name: getattr(columns, name).shape[1] for name in _WIDE}


# ---------------------------------------------------------------- rules on pairs


def distances(offers: Columns, requests: Columns, o: IntArray, r: IntArray) -> FloatArray:
    """Great-circle distance of each pair."""
    return haversine_radians(
        offers.phi[o], offers.lam[o], offers.cos_phi[o],
        requests.phi[r], requests.lam[r], requests.cos_phi[r],
    )  # fmt: skip


def remote_pair(offers: Columns, requests: Columns, pairs: Pairs) -> BoolArray:
    """Staffing pairs that both sides accept remotely."""
    return offers.remote[pairs.offer] & requests.remote[pairs.request]


def within_reach(offers: Columns, requests: Columns, pairs: Pairs) -> BoolArray:
    """Remote staffing pairs, and pairs no farther apart than the smaller radius.

    Distances within rounding of the limit are recomputed with the scalar `haversine_km`, so
    the decision is the one `eligibility` makes.
    """
    o, r = pairs.offer, pairs.request
    limit = np.minimum(offers.radius[o], requests.radius[r])
    for k in np.flatnonzero(np.abs(pairs.distance - limit) <= BOUNDARY_KM).tolist():
        a, b = int(o[k]), int(r[k])
        pairs.distance[k] = haversine_km(
            float(offers.lat[a]),
            float(offers.lon[a]),
            float(requests.lat[b]),
            float(requests.lon[b]),
        )
    return remote_pair(offers, requests, pairs) | (pairs.distance <= limit)


def different_orgs(offers: Columns, requests: Columns, pairs: Pairs) -> BoolArray:
    """An organization does not match with itself."""
    return offers.org[pairs.offer] != requests.org[pairs.request]


def fresh_enough(offers: Columns, requests: Columns, pairs: Pairs, today: date) -> BoolArray:
    """Dated stock lasts until max(today, need-by), unless the request takes expired stock."""
    o, r = pairs.offer, pairs.request
    need = np.maximum(requests.need_by[r], today.toordinal())
    return requests.accepts_expired[r] | (offers.expires[o] >= need)


def staff_qualified(offers: Columns, requests: Columns, pairs: Pairs) -> BoolArray:
    """Every requested credential held, and a shared language when languages are requested."""
    qualified = np.ones(len(pairs.offer), dtype=np.bool_)
    staff = np.flatnonzero(offers.staffing[pairs.offer])
    if not len(staff):
        return qualified
    o, r = pairs.offer[staff], pairs.request[staff]
    skilled = ~np.any(requests.skills[r] & ~offers.skills[o], axis=1)
    asked = np.any(requests.tongues[r] != 0, axis=1)
    spoken = np.any(requests.tongues[r] & offers.tongues[o], axis=1)
    qualified[staff] = skilled & (~asked | spoken)
    return qualified


def eligible(offers: Columns, requests: Columns, pairs: Pairs, today: date) -> BoolArray:
    """Pairs (of the same kind and category) passing every rule but shared hours (`hour_limits`)."""
    return (
        within_reach(offers, requests, pairs)
        & different_orgs(offers, requests, pairs)
        & ~requests.blocked[pairs.request]
        & fresh_enough(offers, requests, pairs, today)
        & staff_qualified(offers, requests, pairs)
    )


def hour_limits(offers: Columns, requests: Columns, pairs: Pairs) -> IntArray:
    """Whole shared hours for staffing pairs (eligible only from 1); NO_LIMIT for supply."""
    o, r = pairs.offer, pairs.request
    limits = np.full(len(o), NO_LIMIT, dtype=np.int64)
    staff = np.flatnonzero(offers.staffing[o])
    limits[staff] = shared_hours(offers, requests, o[staff], r[staff])
    return limits


def capacity(offers: Columns, requests: Columns, pairs: Pairs, limits: IntArray) -> IntArray:
    """What each pair can carry: both quantities and the hour limit."""
    quantities = np.minimum(offers.quantity[pairs.offer], requests.quantity[pairs.request])
    return np.minimum(quantities, limits)


def shared_hours(offers: Columns, requests: Columns, o: IntArray, r: IntArray) -> IntArray:
    """Whole hours in the summed intersections of every pair of windows, chunk by chunk."""
    width = offers.window_start.shape[1] * requests.window_start.shape[1]
    step = max(1, PAIR_BUDGET // width)
    chunks = range(0, len(o), step)
    parts = [_hours_chunk(offers, requests, o[i : i + step], r[i : i + step]) for i in chunks]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def _hours_chunk(offers: Columns, requests: Columns, o: IntArray, r: IntArray) -> IntArray:
    """`shared_hours` for one chunk of pairs."""
    start = np.maximum(offers.window_start[o][:, :, None], requests.window_start[r][:, None, :])
    end = np.minimum(offers.window_end[o][:, :, None], requests.window_end[r][:, None, :])
    return np.clip(end - start, 0, None).sum(axis=(1, 2)) // MICROS_PER_HOUR


def values(offers: Columns, requests: Columns, pairs: Pairs, today: date) -> FloatArray:
    """U * D * E per pair; D is 1 for remote staffing pairs (and below 0.5 beyond reach)."""
    o, r = pairs.offer, pairs.request
    limit = np.minimum(offers.radius[o], requests.radius[r])
    d_factor = np.where(remote_pair(offers, requests, pairs), 1.0, 1 - pairs.distance / (2 * limit))
    short = offers.expires[o] - today.toordinal() <= SHORT_DATED_DAYS
    e_factor = np.where(short, SHORT_DATED_FACTOR, 1.0)
    return requests.weight[r] * d_factor * e_factor
