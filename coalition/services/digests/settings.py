"""Digest settings, filter fields and the purposes of signed digest links."""

from __future__ import annotations

from typing import Any

from flask import current_app

UNSUBSCRIBE_PURPOSE = "digest-unsubscribe"
CONFIRM_PURPOSE = "digest-confirm"
FILTER_FIELDS = (
    "kinds",
    "categories",
    "max_distance_km",
    "scope",
    "neutral_wording",
    "send_empty",
    "timezone",
)


def setting(name: str) -> Any:
    """A digest setting from the app config (defaults in `coalition.config.digests_config`)."""
    return current_app.config[name]
