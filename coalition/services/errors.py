"""The one exception every use case raises when a rule of the domain is broken, and the
`{field: [messages]}` shape its messages (and webargs' and marshmallow's) take."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """A rule of the domain was broken; `field` names the input at fault when there is one."""

    def __init__(self, message: str, field: str | None = None, status: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status


def flatten_errors(errors: Any) -> dict[str, list[str]]:
    """Turn webargs' `{"json": {field: [...]}}` into `{field: [...]}`."""
    if not isinstance(errors, dict):
        return {}
    locations = {"json", "query", "form", "headers", "files", "path", "view_args"}
    if errors and set(errors) <= locations:
        merged: dict[str, Any] = {}
        for value in errors.values():
            merged.update(value if isinstance(value, dict) else {"_schema": value})
        errors = merged
    return {str(k): _as_list(v) for k, v in errors.items()}


def _as_list(value: Any) -> list[str]:
    """Messages as a flat list of strings (nested fields joined by dots)."""
    if isinstance(value, list):
        return [str(v) if not isinstance(v, dict) else _nested(v) for v in value]
    if isinstance(value, dict):
        return [_nested(value)]
    return [str(value)]


def _nested(value: dict[str, Any]) -> str:
    """A nested error dict in one line."""
    return "; ".join(f"{k}: {', '.join(_as_list(v))}" for k, v in value.items())
