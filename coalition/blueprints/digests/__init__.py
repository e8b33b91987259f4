"""Email digests on the web: settings, preview, recipients, confirmation, unsubscribe, sends."""

from flask import Blueprint

bp = Blueprint("digests", __name__, url_prefix="/digests", template_folder="templates")

from coalition.blueprints.digests import views  # noqa: E402,F401
