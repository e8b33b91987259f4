"""Reference data that migrations load; tests load it the same way after create_all."""

from __future__ import annotations

from collections.abc import Callable

from coalition.services.catalog import seed_categories
from coalition.sessions import Session

# Each seed inserts its rows if they are missing; features append theirs.
SEEDS: list[Callable[[Session], None]] = [seed_categories]

# Tables holding reference data that tests keep between tests.
REFERENCE_TABLES: set[str] = {"categories"}
