"""Paths and absolute links in notifications, built without a request (the worker has none)."""

from __future__ import annotations

from flask import current_app


def absolute(path: str) -> str:
    """A link for emails, on BASE_URL."""
    return str(current_app.config["BASE_URL"]) + path


def match_path(match_id: int) -> str:
    """The match page's path."""
    adapter = current_app.url_map.bind("localhost")
    return str(adapter.build("matches.show", {"match_id": match_id}))


def preferences_path() -> str:
    """The path of the notification preferences page."""
    return str(current_app.url_map.bind("localhost").build("notifications.preferences", {}))
