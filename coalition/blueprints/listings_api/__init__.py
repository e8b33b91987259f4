"""`/api/v1/offers`, `/api/v1/requests` and `/api/v1/categories`."""

from flask_smorest import Blueprint

offers_blp = Blueprint(
    "offers_api",
    __name__,
    url_prefix="/offers",
    description="Offers: what member organizations can give (supplies in units, staff in hours).",
)
requests_blp = Blueprint(
    "requests_api",
    __name__,
    url_prefix="/requests",
    description="Requests: what member organizations need, and how urgently.",
)
categories_blp = Blueprint(
    "categories_api",
    __name__,
    url_prefix="/categories",
    description="The category catalog: units, plain and neutral labels.",
)

from coalition.blueprints.listings_api import api  # noqa: E402,F401
