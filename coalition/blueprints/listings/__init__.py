"""Offers and requests: browse, search, post, edit, withdraw, import and export on the web,
and `/api/v1/offers` and `/api/v1/requests` over JSON."""

from coalition.blueprints.listings import (
    import_views,  # noqa: F401  (its routes join bp)
    suggestions_views,  # noqa: F401  (its routes join bp)
)
from coalition.blueprints.listings.api import offers_blp, requests_blp
from coalition.blueprints.listings.views import bp

__all__ = ["bp", "offers_blp", "requests_blp"]
