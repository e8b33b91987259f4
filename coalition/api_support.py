"""Helpers shared by the JSON API blueprints: authentication, pagination and documented errors."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from http import HTTPStatus
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from flask import request
from flask_login import current_user
from flask_smorest import Blueprint, abort
from flask_smorest.pagination import PaginationParameters

from coalition.auth import authenticated_by_token, is_coordinator
from coalition.extensions import csrf, db

F = TypeVar("F", bound=Callable[..., Any])
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


def api_login_required(view: F) -> F:
    """401 unless signed in or bearing a valid token; session callers also pass CSRF on writes."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            abort(401, message="Sign in or send an API token.")
        if request.method in UNSAFE and not authenticated_by_token():
            csrf.protect()  # a cookie rides along on cross-site requests; a token never does
        return view(*args, **kwargs)

    return cast(F, wrapper)


def api_coordinator_required(view: F) -> F:
    """401 when anonymous, 403 unless a coordinator."""

    @api_login_required
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not is_coordinator():
            abort(403, message="Only coordinators may do this.")
        return view(*args, **kwargs)

    return cast(F, wrapper)


def document_errors(blp: Blueprint, *codes: HTTPStatus) -> Callable[[F], F]:
    """Document the error statuses a view may answer with."""

    def decorator(view: F) -> F:
        for code in codes:
            view = blp.alt_response(int(code), response=code.name)(view)
        return view

    return decorator


def paginated(blp: Blueprint) -> Callable[[F], F]:
    """`?page=` and `?page_size=` (50, at most 200) with the `X-Pagination` header."""
    return cast(Callable[[F], F], blp.paginate(page_size=PAGE_SIZE, max_page_size=MAX_PAGE_SIZE))


def commit_for_response() -> None:
    """Commit, keeping what was just written loaded: the response dumps it without reading
    the rows back (a plain commit expires every object, and the dump would reload them)."""
    session = db.session()
    expire = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire


def page_of(query: sa.Select[Any], pagination: PaginationParameters) -> list[Any]:
    """One page of the query's entities (see `page_rows`)."""
    return [row[0] for row in page_rows(query, pagination)]


def page_rows(query: sa.Select[Any], pagination: PaginationParameters) -> list[sa.Row[Any]]:
    """One page of the query's rows, telling the pagination how many there are in all.

    One query: the total rides along as an uncorrelated scalar subquery (evaluated once, over
    narrow rows) as the last column of every row. Only a page past the end (no rows to carry
    it) asks for the count separately.
    """
    counted = sa.select(sa.func.count()).select_from(query.order_by(None).subquery())
    page = (
        query.add_columns(counted.scalar_subquery().label("total"))
        .offset(pagination.first_item)
        .limit(pagination.page_size)
    )
    rows = list(db.session.execute(page).all())
    pagination.item_count = rows[0][-1] if rows else db.session.scalar(counted)
    return rows
