"""A notification's words: the same in-app and by email."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Message:
    """A notification's title and lines."""

    title: str
    lines: list[str] = field(default_factory=list)
