"""`/api/v1/organizations`: the active member organizations."""

from flask_smorest import Blueprint

blp = Blueprint(
    "organizations_api",
    __name__,
    url_prefix="/organizations",
    description="Active member organizations; contacts only for coordinators.",
)

from coalition.blueprints.organizations_api import api  # noqa: E402,F401
