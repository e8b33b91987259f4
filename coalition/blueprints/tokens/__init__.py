"""An organization's API tokens: org admins create and revoke them."""

from flask import Blueprint

bp = Blueprint("tokens", __name__, url_prefix="/org", template_folder="templates")

from coalition.blueprints.tokens import views  # noqa: E402,F401
