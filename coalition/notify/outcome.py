"""What one delivery attempt achieved; shared by the channels and the delivery steps."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Outcome:
    """What one attempt achieved."""

    ok: bool
    error: str = ""
    response_code: int | None = None
    permanent: bool = False  # the other side refused it for good (SMTP 5xx)
