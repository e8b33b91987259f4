"""Exponential backoff, the one used for every retry and every reconnect."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

# 2**64 times any sensible base is far past any cap; a larger exponent would overflow a float
MAX_EXPONENT = 64


@dataclass(frozen=True)
class Backoff:
    """Wait `base` after the first failure, twice that after the second, … up to `cap`."""

    base: float
    cap: float

    def seconds(self, failures: int) -> float:
        """Seconds to wait after `failures` failures in a row (the first wait for 0 or 1)."""
        exponent = min(max(failures - 1, 0), MAX_EXPONENT)
        return float(min(self.cap, self.base * 2**exponent))

    def delay(self, failures: int) -> timedelta:
        """`seconds` as a timedelta."""
        return timedelta(seconds=self.seconds(failures))
