"""Offers and requests over JSON: list, create, read, update, withdraw."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from flask_smorest.pagination import PaginationParameters

from coalition.api_support import (
    api_login_required,
    commit_for_response,
    document_errors,
    page_rows,
    paginated,
)
from coalition.auth import actor
from coalition.blueprints.listings.rows import listing_view, row_columns
from coalition.blueprints.listings.schemas import ITEM_SCHEMAS, OUTPUT_SCHEMAS, QUERY_SCHEMAS
from coalition.blueprints.listings.tagging import save_tags
from coalition.extensions import db
from coalition.models.listings import Direction, Listing
from coalition.services import listings as service
from coalition.services.listing_input import CREATE_SCHEMAS, UPDATE_SCHEMAS

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

ERRORS = (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN, HTTPStatus.NOT_FOUND, HTTPStatus.CONFLICT)


def _find(listing_id: int, direction: Direction) -> Listing:
    """The visible listing of that direction, or a 404."""
    return service.visible_listing(db.session, actor(), listing_id, direction)


def _list(
    direction: Direction, args: dict[str, Any], pagination: PaginationParameters
) -> list[Any]:
    """One page of the visible listings matching the filters, as rows the schemas dump."""
    filters = service.ListingFilters(
        direction=direction.value,
        kind=args.get("kind"),
        category=args.get("category"),
        urgency=args.get("urgency"),
        org=args.get("org"),
        statuses=[args["status"]] if args.get("status") else [],
    )
    query = row_columns(service.filtered_query(actor(), filters))
    return [listing_view(row) for row in page_rows(query, pagination)]


def register_listing_resource(blp: Blueprint, direction: Direction) -> None:
    """Add the collection and item views for offers or requests to `blp`."""
    out_schema, item_schema = OUTPUT_SCHEMAS[direction], ITEM_SCHEMAS[direction]
    noun = direction.value

    @blp.route("")
    class Collection(MethodView):
        decorators = [api_login_required]

        @blp.arguments(QUERY_SCHEMAS[direction](), location="query")  # built once
        @blp.response(200, out_schema(many=True))
        @paginated(blp)
        @document_errors(blp, HTTPStatus.UNAUTHORIZED)
        def get(self, args: dict[str, Any], pagination_parameters: PaginationParameters) -> Any:
            """List the listings you may see, newest first (filters narrow them)."""
            return _list(direction, args, pagination_parameters)

        @blp.arguments(CREATE_SCHEMAS[direction])
        @blp.response(201, item_schema)
        @document_errors(blp, *ERRORS)
        def post(self, data: dict[str, Any]) -> Any:
            """Post a new listing for your organization (coordinators name `org`)."""
            listing = service.post_listing(db.session, actor(), direction, data)
            save_tags(listing, data)
            commit_for_response()
            return listing

    Collection.__name__ = f"{noun.capitalize()}s"
    Collection.__doc__ = f"The {noun}s collection."

    @blp.route("/<int:listing_id>")
    class Item(MethodView):
        decorators = [api_login_required]

        @blp.response(200, item_schema)
        @document_errors(blp, HTTPStatus.UNAUTHORIZED, HTTPStatus.NOT_FOUND)
        def get(self, listing_id: int) -> Any:
            """Read one listing."""
            return _find(listing_id, direction)

        @blp.arguments(UPDATE_SCHEMAS[direction])
        @blp.response(200, item_schema)
        @document_errors(blp, *ERRORS)
        def patch(self, data: dict[str, Any], listing_id: int) -> Any:
            """Change some fields; the quantity cannot drop below what is reserved."""
            listing = _find(listing_id, direction)
            service.update_listing(db.session, actor(), listing, data)
            save_tags(listing, data)
            commit_for_response()
            return listing

        @blp.response(200, out_schema)
        @document_errors(blp, *ERRORS)
        def delete(self, listing_id: int) -> Any:
            """Withdraw the listing; it stays in the history with status `withdrawn`."""
            listing = _find(listing_id, direction)
            service.withdraw_listing(db.session, actor(), listing)
            commit_for_response()
            return listing

    Item.__name__ = noun.capitalize()
    Item.__doc__ = f"One {noun}."


register_listing_resource(offers_blp, Direction.OFFER)
register_listing_resource(requests_blp, Direction.REQUEST)
