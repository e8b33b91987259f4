"""Offers and requests over JSON: list, create, read, update, withdraw."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, NoReturn

import sqlalchemy as sa
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from coalition.api_support import api_login_required, document_errors
from coalition.auth import actor
from coalition.blueprints.listings import offers_blp, requests_blp
from coalition.blueprints.listings.schemas import OUTPUT_SCHEMAS, QUERY_SCHEMAS
from coalition.extensions import db
from coalition.models.listings import Direction, Listing
from coalition.services import listings as service
from coalition.services.errors import ServiceError
from coalition.services.listing_input import CREATE_SCHEMAS, UPDATE_SCHEMAS

ERRORS = (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN, HTTPStatus.NOT_FOUND, HTTPStatus.CONFLICT)


def fail(error: ServiceError) -> NoReturn:
    """Turn a service error into the JSON error response."""
    errors = getattr(error, "errors", None)
    if errors is None and error.field:
        errors = {error.field: [error.message]}
    abort(error.status, message=error.message, errors=errors or {})


def _find(listing_id: int, direction: Direction) -> Listing:
    """The visible listing of that direction, or a 404."""
    try:
        return service.visible_listing(db.session, actor(), listing_id, direction)
    except ServiceError as exc:
        fail(exc)


def _list(direction: Direction, args: dict[str, Any], pagination: Any) -> list[Listing]:
    """One page of the visible listings matching the filters."""
    filters = service.ListingFilters(
        direction=direction.value,
        kind=args.get("kind"),
        category=args.get("category"),
        urgency=args.get("urgency"),
        org=args.get("org"),
        statuses=[args["status"]] if args.get("status") else [],
    )
    query = service.filtered_query(actor(), filters)
    pagination.item_count = db.session.scalar(
        sa.select(sa.func.count()).select_from(query.order_by(None).subquery())
    )
    page = query.offset(pagination.first_item).limit(pagination.page_size)
    return list(db.session.scalars(page))


def register_listing_resource(blp: Blueprint, direction: Direction) -> None:
    """Add the collection and item views for offers or requests to `blp`."""
    out_schema = OUTPUT_SCHEMAS[direction]
    noun = direction.value

    @blp.route("")
    class Collection(MethodView):
        decorators = [api_login_required]

        @blp.arguments(QUERY_SCHEMAS[direction], location="query")
        @blp.response(200, out_schema(many=True))
        @blp.paginate(page_size=50, max_page_size=200)
        @document_errors(blp, HTTPStatus.UNAUTHORIZED)
        def get(self, args: dict[str, Any], pagination_parameters: Any) -> Any:
            """List the listings you may see, newest first (filters narrow them)."""
            return _list(direction, args, pagination_parameters)

        @blp.arguments(CREATE_SCHEMAS[direction])
        @blp.response(201, out_schema)
        @document_errors(blp, *ERRORS)
        def post(self, data: dict[str, Any]) -> Any:
            """Post a new listing for your organization (coordinators name `org`)."""
            try:
                listing = service.post_listing(db.session, actor(), direction, data)
            except ServiceError as exc:
                fail(exc)
            db.session.commit()
            return listing

    Collection.__name__ = f"{noun.capitalize()}s"
    Collection.__doc__ = f"The {noun}s collection."

    @blp.route("/<int:listing_id>")
    class Item(MethodView):
        decorators = [api_login_required]

        @blp.response(200, out_schema)
        @document_errors(blp, HTTPStatus.UNAUTHORIZED, HTTPStatus.NOT_FOUND)
        def get(self, listing_id: int) -> Any:
            """Read one listing."""
            return _find(listing_id, direction)

        @blp.arguments(UPDATE_SCHEMAS[direction])
        @blp.response(200, out_schema)
        @document_errors(blp, *ERRORS)
        def patch(self, data: dict[str, Any], listing_id: int) -> Any:
            """Change some fields; the quantity cannot drop below what is reserved."""
            listing = _find(listing_id, direction)
            try:
                service.update_listing(db.session, actor(), listing, data)
            except ServiceError as exc:
                fail(exc)
            db.session.commit()
            return listing

        @blp.response(200, out_schema)
        @document_errors(blp, *ERRORS)
        def delete(self, listing_id: int) -> Any:
            """Withdraw the listing; it stays in the history with status `withdrawn`."""
            listing = _find(listing_id, direction)
            try:
                service.withdraw_listing(db.session, actor(), listing)
            except ServiceError as exc:
                fail(exc)
            db.session.commit()
            return listing

    Item.__name__ = noun.capitalize()
    Item.__doc__ = f"One {noun}."


register_listing_resource(offers_blp, Direction.OFFER)
register_listing_resource(requests_blp, Direction.REQUEST)
