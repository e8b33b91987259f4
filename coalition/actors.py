"""Who a service acts for: the `Actor` protocol."""

from __future__ import annotations

from typing import Protocol


class Actor(Protocol):
    """A signed-in `User`, an organization's API token (`OrgTokenPrincipal`) or the signed-out
    visitor (`Anonymous`). Services take `Actor | None`, where None is the system (worker, CLI);
    they read `id` and `email`, which the visitor lacks, with getattr."""

    @property
    def is_authenticated(self) -> bool:
        """Whether someone signed in or presented a token."""
        ...

    @property
    def is_coordinator(self) -> bool:
        """Whether the actor oversees the whole coalition."""
        ...

    @property
    def organization_id(self) -> int | None:
        """The organization the actor acts for, if any."""
        ...
