"""Program and funder tags on listings (and so on their matches)."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from coalition.models.impact import ListingTag
from coalition.models.listings import Listing
from coalition.services.impact.scope import TAG_MAX
from coalition.sessions import Session


def normalize_tag(tag: str) -> str:
    """Tags compare as typed, with surrounding and repeated spaces removed."""
    return " ".join(tag.split())[:TAG_MAX]


def listing_tags(session: Session, listing_id: int) -> list[str]:
    """A listing's tags, sorted."""
    query = sa.select(ListingTag.tag).where(ListingTag.listing_id == listing_id)
    return sorted(session.scalars(query))


def set_listing_tags(session: Session, listing: Listing, tags: Iterable[str]) -> list[str]:
    """Replace a listing's program and funder tags; flush, never commit."""
    wanted = sorted({t for t in (normalize_tag(t) for t in tags) if t})
    session.execute(sa.delete(ListingTag).where(ListingTag.listing_id == listing.id))
    session.add_all(
        ListingTag(listing_id=listing.id, tag=t, organization_id=listing.organization_id)
        for t in wanted
    )
    session.flush()
    return wanted


def organization_tags(session: Session, org_id: int | None) -> list[str]:
    """Tags an organization uses (every organization's, for coordinators: None)."""
    query = sa.select(ListingTag.tag).distinct().order_by(ListingTag.tag)
    if org_id is not None:
        query = query.where(ListingTag.organization_id == org_id)
    return list(session.scalars(query))
