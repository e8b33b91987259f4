"""Digest filter fields and the purposes of signed digest links (the digest settings are
fields of `coalition.config.Settings`)."""

from __future__ import annotations

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
