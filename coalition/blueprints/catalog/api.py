"""The category catalog over JSON."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from coalition.api_support import api_login_required, document_errors
from coalition.blueprints.catalog.schemas import CategoryQuerySchema, CategorySchema
from coalition.extensions import db
from coalition.services import catalog

categories_blp = Blueprint(
    "categories_api",
    __name__,
    url_prefix="/categories",
    description="The category catalog: units, plain and neutral labels.",
)


@categories_blp.route("")
class Categories(MethodView):
    """The active categories."""

    decorators = [api_login_required]

    @categories_blp.arguments(CategoryQuerySchema, location="query")
    @categories_blp.response(200, CategorySchema(many=True))
    @document_errors(categories_blp, HTTPStatus.UNAUTHORIZED)
    def get(self, args: dict[str, Any]) -> Any:
        """List the active categories with their unit and labels."""
        return catalog.all_categories(db.session, args.get("kind"))
