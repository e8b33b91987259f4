"""Moving quantities between available, reserved and fulfilled, never over-allocating.

Every change is a conditional UPDATE whose row count is checked: it holds on SQLite (where
`SELECT … FOR UPDATE` does nothing) and on PostgreSQL, with any number of workers.
"""

from __future__ import annotations

import sqlalchemy as sa

from coalition.models.listings import ACTIVE_STATUSES, Listing, ListingStatus
from coalition.models.matches import Match
from coalition.sessions import Session

RESERVABLE = (*ACTIVE_STATUSES, ListingStatus.MATCHED)


def _reserve_one(session: Session, listing_id: int, quantity: int) -> bool:
    """Reserve on one listing if it still has that much available."""
    result = session.execute(
        sa.update(Listing)
        .where(
            Listing.id == listing_id,
            Listing.status.in_(RESERVABLE),
            Listing.quantity - Listing.reserved - Listing.fulfilled >= quantity,
        )
        .values(reserved=Listing.reserved + quantity)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def _adjust(session: Session, listing_id: int, reserved: int, fulfilled: int = 0) -> None:
    """Shift reserved and fulfilled counts of one listing; the row must allow it."""
    result = session.execute(
        sa.update(Listing)
        .where(Listing.id == listing_id, Listing.reserved + reserved >= 0)
        .values(reserved=Listing.reserved + reserved, fulfilled=Listing.fulfilled + fulfilled)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise StockError(f"listing {listing_id} cannot release {-reserved}")


class StockError(RuntimeError):
    """The counts on a listing would become inconsistent."""


def reserve(session: Session, offer_id: int, request_id: int, quantity: int) -> bool:
    """Hold `quantity` on both sides of a pair, or on neither; True when both held."""
    if not _reserve_one(session, offer_id, quantity):
        return False
    if not _reserve_one(session, request_id, quantity):
        _adjust(session, offer_id, -quantity)
        return False
    _refresh(session, offer_id, request_id)
    return True


def release(session: Session, match: Match) -> None:
    """Give a match's held quantity back to both listings."""
    _adjust(session, match.offer_id, -match.quantity)
    _adjust(session, match.request_id, -match.quantity)
    _refresh(session, match.offer_id, match.request_id)


def fulfil(session: Session, match: Match) -> None:
    """Turn a match's held quantity into fulfilled quantity on both listings."""
    _adjust(session, match.offer_id, -match.quantity, match.quantity)
    _adjust(session, match.request_id, -match.quantity, match.quantity)
    _refresh(session, match.offer_id, match.request_id)


def status_for(listing: Listing) -> ListingStatus:
    """The status an active listing's counts call for."""
    if listing.fulfilled >= listing.quantity:
        return ListingStatus.FULFILLED
    if listing.reserved + listing.fulfilled >= listing.quantity:
        return ListingStatus.MATCHED
    if listing.reserved + listing.fulfilled > 0:
        return ListingStatus.PARTLY_MATCHED
    return ListingStatus.OPEN


def _refresh(session: Session, *listing_ids: int) -> None:
    """Reload the counts and bring the status of listings still in play up to date."""
    for listing_id in listing_ids:
        listing = session.get(Listing, listing_id, populate_existing=True)
        if listing is not None and listing.status in RESERVABLE:
            listing.status = status_for(listing)
    session.flush()
