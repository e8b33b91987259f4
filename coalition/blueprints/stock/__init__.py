"""Stock on hand and credentials: the quick count, levels, history and credentials on the web,
and `/api/v1/stock` over JSON."""

from coalition.blueprints.stock import (
    credentials_views,  # noqa: F401  (its routes join bp)
    suggestions_views,  # noqa: F401  (its routes join bp)
)
from coalition.blueprints.stock.api import blp
from coalition.blueprints.stock.views import bp

__all__ = ["blp", "bp"]
