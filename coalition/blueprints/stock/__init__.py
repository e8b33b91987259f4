"""Stock on hand: the quick count, levels and history on the web, and `/api/v1/stock` over JSON."""

from coalition.blueprints.stock.api import blp
from coalition.blueprints.stock.views import bp

__all__ = ["blp", "bp"]
