"""Program and funder tags given with a listing, by the form or the API."""

from __future__ import annotations

from typing import Any

from coalition.extensions import db
from coalition.models.listings import Listing
from coalition.services.impact import set_listing_tags


def save_tags(listing: Listing, data: dict[str, Any]) -> None:
    """Replace the listing's tags when the input gave them (flush; the view commits)."""
    if "tags" in data:
        set_listing_tags(db.session, listing, data["tags"] or [])
