"""The one exception every use case raises when a rule of the domain is broken."""

from __future__ import annotations


class ServiceError(Exception):
    """A rule of the domain was broken; `field` names the input at fault when there is one."""

    def __init__(self, message: str, field: str | None = None, status: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status
