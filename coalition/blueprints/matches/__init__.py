"""Matches: the coordinators' queue, an organization's matches, the ledger and auto-approval
rules on the web, and `/api/v1/matches` (proposals and their lifecycle) over JSON."""

from coalition.blueprints.matches.api import blp
from coalition.blueprints.matches.views import bp

__all__ = ["blp", "bp"]
