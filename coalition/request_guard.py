"""Refuse input that would crash deeper layers before any view sees it: JSON nested too deep
(RecursionError in the parser), and integers no database column can hold (OverflowError in
SQLite, out of range in PostgreSQL) in URL ids, API query strings and API JSON bodies."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, request
from werkzeug.routing import IntegerConverter

from coalition.errors import json_error

MAX_JSON_DEPTH = 32
MAX_INT = 2**31 - 1  # PostgreSQL INTEGER; every id and count of the API fits
OPENERS, CLOSERS = frozenset(b"[{"), frozenset(b"]}")


class BoundedIntConverter(IntegerConverter):
    """`<int:…>` that matches only ids a column can hold (a larger one is a plain 404)."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:  # noqa: A002
        kwargs.setdefault("max", MAX_INT)
        super().__init__(map, *args, **kwargs)


def json_depth(raw: bytes) -> int:
    """How deeply arrays and objects nest in a JSON text (strings are skipped)."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if escaped:
            escaped = False
        elif in_string:
            escaped, in_string = byte == 0x5C, byte != 0x22  # a backslash, a closing quote
        elif byte == 0x22:
            in_string = True
        elif byte in OPENERS:
            depth += 1
            deepest = max(deepest, depth)
        elif byte in CLOSERS:
            depth -= 1
    return deepest


def too_large(value: Any, path: str = "") -> str | None:
    """The dotted path of the first integer out of range in a JSON document, if any."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return path or "_schema" if abs(value) > MAX_INT else None
    children: Any = ()
    if isinstance(value, dict):
        children = value.items()
    elif isinstance(value, list):
        children = enumerate(value)
    for key, child in children:
        found = too_large(child, f"{path}.{key}" if path else str(key))
        if found:
            return found
    return None


def _query_errors() -> dict[str, list[str]]:
    """Query-string integers out of range, by name."""
    errors = {}
    for name, value in request.args.items(multi=True):
        digits = value.strip().lstrip("+-")
        # ASCII digits only: "6³" is isdigit() but not int()
        if digits.isascii() and digits.isdigit() and int(digits) > MAX_INT:
            errors[name] = [f"Must be at most {MAX_INT}."]
    return errors


def _body_errors() -> dict[str, list[str]] | None:
    """Problems of an API JSON body that the parser or the database would crash on."""
    raw = request.get_data(cache=True)
    if not raw or not request.is_json:
        return None
    if json_depth(raw) > MAX_JSON_DEPTH:
        return {"_schema": [f"JSON may nest at most {MAX_JSON_DEPTH} levels."]}
    try:
        document = json.loads(raw)
    except ValueError:
        return None  # the view's own parser answers with its message
    field = too_large(document)
    return {field: [f"Must be at most {MAX_INT}."]} if field else None


def guard_api_input() -> Any:
    """A 422 with field messages instead of a 500, for API requests only."""
    if not request.path.startswith("/api/"):
        return None
    errors = _query_errors() or _body_errors()
    if errors:
        return json_error(422, errors=errors)
    return None


def register(app: Flask) -> None:
    """Bound `<int:…>` in URLs (before any blueprint adds rules) and guard API input."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.before_request(guard_api_input)
