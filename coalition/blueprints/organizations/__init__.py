"""Organizations: my organization's people, invitations, settings and API tokens on the web,
and `/api/v1/organizations` (the active member organizations) over JSON."""

from flask import Blueprint
from flask_smorest import Blueprint as ApiBlueprint

bp = Blueprint("orgs", __name__, url_prefix="/org", template_folder="templates")
tokens_bp = Blueprint("tokens", __name__, url_prefix="/org", template_folder="templates")
blp = ApiBlueprint(
    "organizations_api",
    __name__,
    url_prefix="/organizations",
    description="Active member organizations; contacts only for coordinators.",
)

from coalition.blueprints.organizations import api, tokens, views  # noqa: E402,F401
