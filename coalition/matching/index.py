"""Open listings of one side, by kind and category, weighed against one listing at a time.

Each (kind, category) keeps its open listings as growable numpy columns (`columns.Columns`)
and a grid of their rows, so `OpenListings.weigh(listing, today)` looks at the cells around
the listing only and applies the rules to those rows at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date

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
    put_rows,
    resized,
    values,
    widened,
    widths,
)
from coalition.matching.eligibility import ineligibility_reason
from coalition.matching.geo import FloatArray, GridIndex, IntArray
from coalition.matching.model import Listing, Offer, pair_of

NO_ROWS = np.zeros(0, dtype=np.int64)


@dataclass(frozen=True, slots=True)
class OpenEntry:
    """An open listing, what it still has available, and when it was added (earlier wins ties)."""

    listing: Listing
    available: int
    order: int


class Shelf:
    """The open listings of one kind and category: columns by row, and a grid of the rows."""

    def __init__(self, names: Names) -> None:
        self.columns = columns_of([], names)
        self.listings: list[Listing | None] = []
        self.order = np.zeros(0, dtype=np.int64)
        self.grid: GridIndex[int] = GridIndex()
        self.remote: dict[int, None] = {}

    def append(self, block: Columns, listings: list[Listing], order: IntArray) -> int:
        """Add the listings (whose columns are `block`); return the row of the first one."""
        start, stop = len(self.listings), len(self.listings) + len(listings)
        self._make_room(stop, block)
        put_rows(self.columns, start, block)
        self.order[start:stop] = order
        self.listings.extend(listings)
        rows = list(range(start, stop))
        self.grid.add_many(rows, block.lat, block.lon)
        self.remote.update((row, None) for row in rows if self.columns.remote[row])
        return start

    def remove(self, row: int) -> None:
        """Close a row: it is no longer found, and keeps nothing available."""
        self.listings[row] = None
        self.columns.quantity[row] = 0
        self.grid.discard(row)
        self.remote.pop(row, None)

    def near_rows(self, listing: Listing) -> IntArray:
        """Open rows within the listing's radius (and some beyond), plus remote ones if it is."""
        rows = self.grid.near(listing.lat, listing.lon, listing.max_distance_km)
        if listing.kind == "staffing" and listing.remote_ok:
            rows.extend(self.remote)
            return np.unique(np.array(rows, dtype=np.int64))
        return np.array(rows, dtype=np.int64)

    def fit(self, other: Columns) -> Columns:
        """`other` padded to this shelf's widths (and the shelf to its, if wider)."""
        self.columns, other = aligned(self.columns, other)
        return other

    def _make_room(self, rows: int, block: Columns) -> None:
        """Grow the columns (doubling) and widen them for the block."""
        self.columns = widened(self.columns, widths(block))
        if rows > len(self.columns):
            size = max(rows, 2 * len(self.columns), 16)
            self.columns = resized(self.columns, size)
            self.order = np.resize(self.order, size)


@dataclass(frozen=True, slots=True)
class Weighed:
    """The open counterparts around one listing, weighed; arrays are by position.

    `value` is per unit, and what the pair would be worth if eligible (D falls below 0.5 beyond
    reach); `cap` is what the pair can carry now: 0 when ineligible or nothing is available.
    """

    listing: Listing
    today: date
    remaining: int
    shelved: list[Listing | None]  # the shelf's listings by row, read before anything changes
    rows: IntArray
    value: FloatArray
    distance: FloatArray
    cap: IntArray
    eligible: BoolArray
    order: IntArray

    def __len__(self) -> int:
        return len(self.rows)

    def counterpart(self, position: int) -> Listing:
        """The counterpart at a position."""
        listing = self.shelved[int(self.rows[position])]
        assert listing is not None, "the shelf changed since it was weighed"
        return listing

    def ranking(self, positions: IntArray | None = None) -> IntArray:
        """Positions (all, or the given ones) best value first, earlier listings first on ties."""
        chosen = np.arange(len(self.value)) if positions is None else positions
        return chosen[np.lexsort((self.order[chosen], -self.value[chosen]))]

    def take(self) -> list[tuple[int, int]]:
        """(position, quantity) taken best value first until the listing has nothing left."""
        left, taken = self.remaining, []
        for position in self.ranking(np.flatnonzero(self.cap > 0)).tolist():
            if left <= 0:
                break
            quantity = min(int(self.cap[position]), left)
            taken.append((position, quantity))
            left -= quantity
        return taken

    def reason(self, position: int) -> str | None:
        """Why the counterpart at `position` is not eligible (None if it is)."""
        if self.eligible[position]:
            return None
        offer, request = pair_of(self.listing, self.counterpart(position))
        return ineligibility_reason(offer, request, self.today, float(self.distance[position]))


class OpenListings:
    """Offers (or requests) still open, each with the quantity it still has available.

    `weigh(listing, today)` weighs the counterparts a listing could be paired with: those of
    its kind and category within its own `max_distance_km`, and for a remote staffing listing
    every remote listing of the category too. Additions are queued and shelved together at
    the next lookup, so opening listings one by one costs little more than in bulk. Rows of
    closed listings stay allocated (a few hundred bytes each) but are never visited again.
    """

    def __init__(self, listings: Iterable[Listing] = ()) -> None:
        self._names = Names()
        self._shelves: dict[tuple[str, str], Shelf] = {}
        self._where: dict[str, tuple[Shelf, int]] = {}
        self._queued: dict[str, tuple[Listing, int, int]] = {}  # id: (listing, available, order)
        self._added = 0
        for listing in listings:
            self.add(listing)
        self._shelve()

    def __len__(self) -> int:
        return len(self._where) + len(self._queued)

    def __contains__(self, listing_id: object) -> bool:
        return listing_id in self._where or listing_id in self._queued

    def __iter__(self) -> Iterator[OpenEntry]:
        self._shelve()
        for shelf, row in list(self._where.values()):
            yield _entry(shelf, row)

    def get(self, listing_id: str) -> OpenEntry | None:
        """The open listing with this id, if any."""
        self._shelve()
        place = self._where.get(listing_id)
        return None if place is None else _entry(*place)

    def add(self, listing: Listing, available: int | None = None) -> None:
        """Open a listing (or reopen it) with `available` units, by default its quantity."""
        self.discard(listing.id)
        qty = listing.quantity if available is None else available
        self._queued[listing.id] = (listing, qty, self._added)
        self._added += 1

    def discard(self, listing_id: str) -> None:
        """Close a listing if it is open."""
        if self._queued.pop(listing_id, None) is not None:
            return
        place = self._where.pop(listing_id, None)
        if place is not None:
            place[0].remove(place[1])

    def take(self, listing_id: str, quantity: int) -> None:
        """Reserve `quantity` of an open listing; it closes when nothing is left."""
        self._shelve()
        shelf, row = self._where[listing_id]
        shelf.columns.quantity[row] -= quantity
        if shelf.columns.quantity[row] <= 0:
            self.discard(listing_id)

    def weigh(self, listing: Listing, today: date, remaining: int | None = None) -> Weighed:
        """Every open counterpart within the listing's radius (or remote), weighed.

        `remaining` is what the listing has left to give or receive (at most its quantity).
        """
        self._shelve()
        left = listing.quantity if remaining is None else min(remaining, listing.quantity)
        shelf = self._shelves.get((listing.kind, listing.category))
        rows = NO_ROWS if shelf is None else shelf.near_rows(listing)
        if shelf is None or not len(rows):
            return _nothing(listing, today, left)
        one = columns_of([listing], self._names)
        one.quantity[0] = left
        return _weigh(listing, today, left, shelf, shelf.fit(one), rows)

    def _shelve(self) -> None:
        """Put the queued listings on their shelves, a category at a time."""
        by_shelf: dict[tuple[str, str], list[tuple[Listing, int, int]]] = {}
        for queued in self._queued.values():
            by_shelf.setdefault((queued[0].kind, queued[0].category), []).append(queued)
        self._queued.clear()
        for key, batch in by_shelf.items():
            shelf = self._shelves.setdefault(key, Shelf(self._names))
            listings = [listing for listing, _, _ in batch]
            block = columns_of(listings, self._names)
            block.quantity[:] = [available for _, available, _ in batch]
            start = shelf.append(block, listings, np.array([order for _, _, order in batch]))
            self._where.update((item.id, (shelf, start + k)) for k, item in enumerate(listings))


def _entry(shelf: Shelf, row: int) -> OpenEntry:
    """The entry for a shelf row."""
    listing = shelf.listings[row]
    assert listing is not None
    return OpenEntry(listing, int(shelf.columns.quantity[row]), int(shelf.order[row]))


def _weigh(
    listing: Listing, today: date, left: int, shelf: Shelf, one: Columns, rows: IntArray
) -> Weighed:
    """Apply the rules to the listing (`one`, a single row) and the shelf rows."""
    zeros = np.zeros(len(rows), dtype=np.int64)
    if isinstance(listing, Offer):
        offers, requests, o, r = one, shelf.columns, zeros, rows
    else:
        offers, requests, o, r = shelf.columns, one, rows, zeros
    pairs = Pairs(o, r, distances(offers, requests, o, r))
    ok = eligible(offers, requests, pairs, today)
    mine = ok | (pairs.distance <= listing.max_distance_km)  # drop the grid's far corners
    pairs, ok, rows = pairs.where(mine), ok[mine], rows[mine]
    limits = hour_limits(offers, requests, pairs)
    ok &= limits >= 1
    cap = np.where(ok, capacity(offers, requests, pairs, limits), 0)
    return Weighed(
        listing=listing,
        today=today,
        remaining=left,
        shelved=shelf.listings,
        rows=rows,
        value=values(offers, requests, pairs, today),
        distance=pairs.distance,
        cap=cap,
        eligible=ok,
        order=shelf.order[rows],
    )


def _nothing(listing: Listing, today: date, left: int) -> Weighed:
    """A weighing with no counterparts."""
    empty = np.zeros(0)
    return Weighed(
        listing, today, left, [], NO_ROWS, empty, empty, NO_ROWS, empty.astype(bool), NO_ROWS
    )
