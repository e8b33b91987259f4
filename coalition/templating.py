"""Helpers the templates use: navigation by role and form rendering."""

from __future__ import annotations

from typing import Any

from flask_login import current_user


def nav_items() -> list[tuple[str, str]]:
    """The navigation entries for the current person: (endpoint, label)."""
    if not current_user.is_authenticated:
        return [("auth.login", "Sign in")]
    items = [("main.dashboard", "Home")]
    items += [(endpoint, label) for endpoint, label, who in EXTRA_NAV if _allowed(who)]
    if getattr(current_user, "organization_id", None):
        items.append(("orgs.my_organization", "My organization"))
    if getattr(current_user, "is_coordinator", False):
        items += [
            ("coordinator.organizations", "Organizations"),
            ("coordinator.audit_log", "Audit log"),
        ]
    return items


def _allowed(who: str) -> bool:
    """Whether a nav entry meant for `who` shows for the current person."""
    if who == "coordinator":
        return bool(getattr(current_user, "is_coordinator", False))
    if who == "member":
        return bool(getattr(current_user, "organization_id", None))
    return True


# Features add their entries here: (endpoint, label, "all" | "member" | "coordinator").
EXTRA_NAV: list[tuple[str, str, str]] = [
    ("listings.browse", "Listings", "all"),
    ("listings.mine", "Our listings", "member"),
    ("catalog.index", "Categories", "coordinator"),
    ("ops.events_page", "Events", "coordinator"),
    ("matches.queue", "Match queue", "coordinator"),
    ("matches.index", "Matches", "member"),
    ("digests.settings", "My digest", "all"),
    ("digests.sends", "Digests", "coordinator"),
    ("impact.coalition_page", "Impact", "coordinator"),
    ("impact.organization_page", "Our impact", "member"),
]


TEMPLATE_GLOBALS: dict[str, Any] = {"nav_items": nav_items}
