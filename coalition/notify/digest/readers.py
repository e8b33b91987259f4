"""Who reads a digest: the reader's filters and visibility, and the absolute links
built on BASE_URL without a request, so the worker can build them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask

from coalition.models.digests import DEFAULT_TIMEZONE, DigestScope


class Links:
    """Absolute links built on BASE_URL without a request, so the worker can build them."""

    TARGETS: dict[str, str] = {
        "listing": "listings.detail",
        "browse": "listings.browse",
        "match": "matches.show",
        "matches": "matches.index",
        "queue": "matches.queue",
        "settings": "digests.settings",
        "unsubscribe": "digests.unsubscribe",
        "home": "main.dashboard",
    }

    def __init__(self, app: Flask) -> None:
        self.base = app.config["BASE_URL"].rstrip("/")
        self.adapter = app.url_map.bind("localhost")

    def url(self, target: str, **values: Any) -> str:
        """The absolute URL of a named page."""
        return self.base + self.adapter.build(self.TARGETS[target], values)


# ---------------------------------------------------------------- who reads


@dataclass(frozen=True)
class Viewer:
    """What the listings service needs to decide visibility, for any kind of recipient."""

    organization_id: int | None
    is_coordinator: bool = False
    is_authenticated: bool = True


@dataclass
class Recipient:
    """A digest's reader and their filters, detached from the session."""

    subscription_id: int
    address: str
    name: str
    organization_id: int | None
    is_coordinator: bool
    kinds: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    max_distance_km: float | None = None
    scope: DigestScope = DigestScope.COALITION
    neutral: bool = False
    send_empty: bool = False
    timezone: str = DEFAULT_TIMEZONE
    unsubscribe_url: str = ""
    unsubscribe_mailto: str = ""
    locale: str | None = None  # the reader's language (people with an account), else English

    @property
    def viewer(self) -> Viewer:
        """The viewer whose visibility this recipient has."""
        return Viewer(self.organization_id, self.is_coordinator)
