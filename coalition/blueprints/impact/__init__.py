"""Impact: the coalition's and each organization's figures, charts, reports and API."""

from coalition.blueprints.impact.api import blp
from coalition.blueprints.impact.views import bp

__all__ = ["blp", "bp"]
