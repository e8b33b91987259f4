"""Error responses: pages for the web, `{"code", "message", "errors"}` JSON under /api/.

A `ServiceError` a view does not catch (an unknown or hidden record, a forbidden or
conflicting change) becomes its status and message here, so views only catch it to re-show
a form with the message beside the field.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, InternalServerError

from coalition.extensions import db
from coalition.i18n import N_
from coalition.services.errors import ServiceError, flatten_errors

log = logging.getLogger("coalition.errors")
RETRY_AFTER_S = 2

MESSAGES = {
    400: N_("The request could not be understood."),
    401: N_("Sign in to continue."),
    403: N_("You are not allowed to do that."),
    404: N_("Not found."),
    405: N_("That method is not allowed here."),
    409: N_("That conflicts with the current state of the record."),
    422: N_("Some fields are not valid."),
    429: N_("Too many attempts. Wait a minute and try again."),
    500: N_("Something went wrong on our side."),
    503: N_("The service is busy. Try again in a few seconds."),
}


def wants_json() -> bool:
    """API paths and JSON clients get JSON errors."""
    return request.path.startswith("/api/") or (request.accept_mimetypes.best == "application/json")


def json_error(code: int, message: str | None = None, errors: Any = None, headers: Any = None):
    """Build a JSON error response."""
    body = {"code": code, "message": message or MESSAGES.get(code, "Error"), "errors": {}}
    body["errors"] = flatten_errors(errors) if errors else {}
    response = jsonify(body)
    response.status_code = code
    if headers:
        response.headers.update(headers)
    return response


def handle_http_exception(error: HTTPException):  # type: ignore[no-untyped-def]
    """Render an HTTP error as JSON or as a page."""
    code = error.code or 500
    data = getattr(error, "data", None) or {}
    message = data.get("message") or _description(error, code)
    if wants_json():
        errors = data.get("errors") or data.get("messages")
        return json_error(code, message, errors, data.get("headers"))
    return render_template("errors/generic.html", code=code, message=gettext(message)), code


def _description(error: HTTPException, code: int) -> str:
    """Prefer our plain messages over Werkzeug's long defaults, but keep custom ones."""
    default = type(error).description
    if error.description and error.description != default:
        return str(error.description)
    return MESSAGES.get(code, error.name)


def handle_csrf_error(error: CSRFError):  # type: ignore[no-untyped-def]
    """A missing or stale CSRF token is a 400 with a plain reason."""
    if wants_json():
        return json_error(400, f"CSRF check failed: {error.description}")
    return render_template("errors/generic.html", code=400, message=error.description), 400


def handle_service_error(error: ServiceError):  # type: ignore[no-untyped-def]
    """A broken domain rule: nothing it flushed is kept; its status and message are shown."""
    db.session.rollback()
    if wants_json():
        return json_error(error.status, error.message, field_errors(error))
    page = render_template("errors/generic.html", code=error.status, message=error.message)
    return page, error.status


def field_errors(error: ServiceError) -> dict[str, list[str]]:
    """The error's messages by field: all of them when it carries several, else its own."""
    errors = getattr(error, "errors", None)
    if errors is None and error.field:
        errors = {error.field: [error.message]}
    return errors or {}


def handle_pool_timeout(error: PoolTimeout):  # type: ignore[no-untyped-def]
    """Every database connection is busy: 503 with Retry-After at once, rather than a hang."""
    log.warning("database pool exhausted on %s %s: %s", request.method, request.path, error)
    headers = {"Retry-After": str(RETRY_AFTER_S)}
    if wants_json():
        return json_error(503, headers=headers)
    # no layout: it would ask the database who is signed in
    page = f"<!doctype html><title>Busy</title><h1>503</h1><p>{MESSAGES[503]}</p>"
    return page, 503, headers


def handle_unexpected(error: Exception):  # type: ignore[no-untyped-def]
    """Log an unexpected exception and answer 500 without details."""
    log.exception("unhandled error on %s %s", request.method, request.path)
    return handle_http_exception(InternalServerError())


def register_errorhandlers(app: Flask) -> None:
    """Attach the handlers to the app."""
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(ServiceError, handle_service_error)
    app.register_error_handler(PoolTimeout, handle_pool_timeout)
    if not app.testing:
        app.register_error_handler(Exception, handle_unexpected)
