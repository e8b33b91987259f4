"""Matches: the coordinators' queue, an organization's matches, the ledger and auto-approval
rules on the web, and `/api/v1/matches` (proposals and their lifecycle) over JSON."""

from flask import Blueprint
from flask_smorest import Blueprint as ApiBlueprint

bp = Blueprint("matches", __name__, template_folder="templates")
blp = ApiBlueprint(
    "matches_api",
    __name__,
    url_prefix="/matches",
    description=(
        "Proposed matches and their state, with the explanation. Before a coordinator "
        "approves a match, each organization sees the other only as 'a member organization "
        "in <borough>, <N> km away'."
    ),
)

from coalition.blueprints.matches import api, views  # noqa: E402,F401
