"""Sign in, sign out, invitations and password resets."""

from flask import Blueprint

bp = Blueprint("auth", __name__, template_folder="templates")

from coalition.blueprints.auth import views  # noqa: E402,F401
