"""Offers and requests on the web: browse, search, post, edit, withdraw, import, export."""

from flask import Blueprint

bp = Blueprint("listings", __name__, url_prefix="/listings", template_folder="templates")

from coalition.blueprints.listings import views  # noqa: E402,F401
