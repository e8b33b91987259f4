"""My organization: people, invitations and settings."""

from flask import Blueprint

bp = Blueprint("orgs", __name__, url_prefix="/org", template_folder="templates")

from coalition.blueprints.orgs import views  # noqa: E402,F401
