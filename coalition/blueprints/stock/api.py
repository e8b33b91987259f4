"""`/api/v1/stock`: levels on hand, the history of entries, and recording a count."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint, abort
from flask_smorest.pagination import PaginationParameters

from coalition.api_support import api_login_required, document_errors, page_of, paginated
from coalition.auth import actor
from coalition.blueprints.stock.schemas import (
    StockEntryOutSchema,
    StockLevelSchema,
    StockQuerySchema,
)
from coalition.extensions import db
from coalition.models.organizations import Organization
from coalition.services import catalog, forecast, inventory
from coalition.services.inventory import StockEntrySchema

blp = Blueprint(
    "stock_api",
    __name__,
    url_prefix="/stock",
    description=(
        "Stock on hand per category and lot. Every count, delivery, distribution and "
        "transfer is kept as an entry; a count far above the level it replaces, or stock "
        "below zero, is flagged for a second look. Members see and count their own "
        "organization's stock; coordinators name any organization with `org`."
    ),
)


UNKNOWN_CATEGORY = {"category": ["unknown category"]}


def _org(slug: str | None) -> Organization:
    """The organization whose stock the caller asks about (theirs by default)."""
    return inventory.acting_org(db.session, actor(), slug)


@blp.route("")
class Levels(MethodView):
    """Stock on hand now."""

    decorators = [api_login_required]

    @blp.arguments(StockQuerySchema, location="query")
    @blp.response(200, StockLevelSchema(many=True))
    @document_errors(blp, HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN)
    def get(self, args: dict[str, Any]) -> Any:
        """Each category's units on hand, by lot (soonest expiry first), and its forecast."""
        org = _org(args.get("org"))
        found = forecast.forecasts_for(db.session, org.id)
        return [
            {
                "org": org.slug,
                "category": row["category"].slug,
                "on_hand": row["level"].total,
                "last_counted_at": row["level"].last_counted_at,
                "flagged": row["level"].flagged,
                "lots": row["level"].lot_rows(),
                "forecast": found.get(row["category"].id),
            }
            for row in inventory.level_rows(db.session, org.id)
        ]


@blp.route("/entries")
class Entries(MethodView):
    """The history of counts, deliveries, distributions and transfers."""

    decorators = [api_login_required]

    @blp.arguments(StockQuerySchema, location="query")
    @blp.response(200, StockEntryOutSchema(many=True))
    @paginated(blp)
    @document_errors(blp, HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN)
    def get(self, args: dict[str, Any], pagination_parameters: PaginationParameters) -> Any:
        """Entries newest first (filter by `category`)."""
        org = _org(args.get("org"))
        category_id = None
        if args.get("category"):
            category = catalog.category_by_slug(db.session, args["category"])
            if category is None:
                abort(422, message="Some fields are not valid.", errors=UNKNOWN_CATEGORY)
            else:
                category_id = category.id
        return page_of(inventory.entries_query(org.id, category_id), pagination_parameters)

    @blp.arguments(StockEntrySchema)
    @blp.response(201, StockEntryOutSchema(many=True))
    @document_errors(blp, HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN)
    def post(self, data: dict[str, Any]) -> Any:
        """Record a count (the default), a delivery or a distribution report.

        With `distributed`, a count also records what went out since the last count (from
        `period_start`). The answer lists the entries made, with their flags.
        """
        org = _org(data.get("org"))
        entries = inventory.record(db.session, actor(), org, data, source="api")
        db.session.commit()
        return entries
