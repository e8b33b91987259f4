"""The category catalog: coordinators edit it on the web; `/api/v1/categories` reads it."""

from flask import Blueprint
from flask_smorest import Blueprint as ApiBlueprint

bp = Blueprint("catalog", __name__, url_prefix="/catalog", template_folder="templates")
categories_blp = ApiBlueprint(
    "categories_api",
    __name__,
    url_prefix="/categories",
    description="The category catalog: units, plain and neutral labels.",
)

from coalition.blueprints.catalog import api, views  # noqa: E402,F401
