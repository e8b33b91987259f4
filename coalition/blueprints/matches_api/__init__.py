"""`/api/v1/matches`: proposals and their lifecycle over JSON."""

from flask_smorest import Blueprint

blp = Blueprint(
    "matches_api",
    __name__,
    url_prefix="/matches",
    description=(
        "Proposed matches and their state, with the explanation. Before a coordinator "
        "approves a match, each organization sees the other only as 'a member organization "
        "in <borough>, <N> km away'."
    ),
)

from coalition.blueprints.matches_api import api  # noqa: E402,F401
