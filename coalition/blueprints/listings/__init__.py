"""Offers and requests: browse, search, post, edit, withdraw, import and export on the web,
and `/api/v1/offers` and `/api/v1/requests` over JSON."""

from flask import Blueprint
from flask_smorest import Blueprint as ApiBlueprint

bp = Blueprint("listings", __name__, url_prefix="/listings", template_folder="templates")
offers_blp = ApiBlueprint(
    "offers_api",
    __name__,
    url_prefix="/offers",
    description="Offers: what member organizations can give (supplies in units, staff in hours).",
)
requests_blp = ApiBlueprint(
    "requests_api",
    __name__,
    url_prefix="/requests",
    description="Requests: what member organizations need, and how urgently.",
)

from coalition.blueprints.listings import api, views  # noqa: E402,F401
