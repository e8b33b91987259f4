"""Impact: the coalition's and each organization's figures, charts, reports and API."""

from flask import Blueprint
from flask_smorest import Blueprint as ApiBlueprint

bp = Blueprint(
    "impact",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/impact/static",
)

blp = ApiBlueprint(
    "impact_api",
    __name__,
    url_prefix="/impact",
    description=(
        "Impact figures from fulfilled matches (never from proposals). Coordinators see the "
        "coalition and any organization; a member sees its organization and the coalition's "
        "totals, and other organizations only as 'Other member organizations'."
    ),
)

from coalition.blueprints.impact import api, views  # noqa: E402,F401
