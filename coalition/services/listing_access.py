"""Who may see and change a listing: the owner organization, coordinators, and the system.

Every read of listings goes through `visible_listings_query` or `visible_listing`, so a
coordinators-only listing never reaches someone who may not see it.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.sql import Select

from coalition.actors import Actor
from coalition.models.listings import Listing, Visibility
from coalition.services.errors import ServiceError
from coalition.sessions import Session


def is_coordinator(actor: Actor | None) -> bool:
    """Coordinators see and change every listing."""
    return bool(getattr(actor, "is_coordinator", False))


def acts_for(actor: Actor | None, org_id: int | None) -> bool:
    """Whether the actor (a member or an org token) acts for that organization."""
    return org_id is not None and getattr(actor, "organization_id", None) == org_id


def can_view(actor: Actor | None, listing: Listing) -> bool:
    """Coalition-wide listings to anyone signed in; coordinators-only ones to the owner too."""
    if is_coordinator(actor) or acts_for(actor, listing.organization_id):
        return True
    signed_in = bool(getattr(actor, "is_authenticated", False))
    return signed_in and listing.visibility == Visibility.COALITION


def can_edit(actor: Actor | None, listing: Listing) -> bool:
    """Members change their own organization's listings; coordinators and the system any."""
    return actor is None or is_coordinator(actor) or acts_for(actor, listing.organization_id)


def visible_listings_query(actor: Actor | None) -> Select[Listing]:
    """A select of the listings the actor may see."""
    query = sa.select(Listing)
    if is_coordinator(actor):
        return query
    if not getattr(actor, "is_authenticated", False):
        return query.where(sa.false())
    visible = Listing.visibility == Visibility.COALITION
    org_id = getattr(actor, "organization_id", None)
    if org_id is not None:
        visible = sa.or_(visible, Listing.organization_id == org_id)
    return query.where(visible)


def visible_listing(
    session: Session, actor: Actor | None, listing_id: int, direction: str | None = None
) -> Listing:
    """The listing if it exists and the actor may see it; otherwise a 404."""
    listing = session.get(Listing, listing_id)
    if listing is None or (direction and listing.direction != direction):
        raise ServiceError("No such listing.", status=404)
    if not can_view(actor, listing):
        raise ServiceError("No such listing.", status=404)
    return listing


def require_edit(actor: Actor | None, listing: Listing) -> None:
    """403 unless the actor may change this listing; 409 once it is history."""
    if not can_edit(actor, listing):
        raise ServiceError(
            "Only the organization that posted this listing may change it.", status=403
        )
    if not listing.is_changeable:
        raise ServiceError(
            f"This listing is {listing.status.label} and can no longer change.", status=409
        )
