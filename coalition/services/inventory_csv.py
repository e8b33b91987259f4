"""Stock counts from an inventory sheet (CSV): every row checked first, then all recorded or none.

Columns: `category` and `count` are required; `lot`, `expires_on`, `counted_on`,
`distributed`, `period_start` and `note` are optional. Problems come back as one line per
problem, `row 3: count: …`, through the listings import's `ImportFailed`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TextIO

from coalition.actors import Actor
from coalition.models.inventory import StockEntry
from coalition.models.organizations import Organization
from coalition.services import inventory
from coalition.services.listings_csv import ImportFailed, read_sheet
from coalition.sessions import Session

IMPORT_COLUMNS = (
    "category", "count", "lot", "expires_on", "counted_on", "distributed", "period_start", "note",
)  # fmt: skip
REQUIRED_COLUMNS = ("category", "count")
ALIASES = {"quantity": "count", "expiry": "expires_on", "date": "counted_on"}


def read_rows(stream: TextIO) -> list[dict[str, str]]:
    """The sheet's rows as dicts of known columns; refuses a bad header or an empty sheet."""
    return read_sheet(stream, REQUIRED_COLUMNS, IMPORT_COLUMNS, ALIASES)


def row_input(row: dict[str, str]) -> dict[str, Any]:
    """A sheet row as entry input (empty cells left out)."""
    raw = {("quantity" if k == "count" else k): v for k, v in row.items() if v != ""}
    return raw


def check_rows(
    session: Session, actor: Actor | None, org: Organization, rows: Iterable[dict[str, str]]
) -> list[dict[str, Any]]:
    """Every row checked; the loaded rows, or ImportFailed naming every problem."""
    loaded: list[dict[str, Any]] = []
    errors: list[str] = []
    count = 0
    for number, row in enumerate(rows, start=2):
        count += 1
        try:
            data = inventory.load_entry(row_input(row))
            inventory.check_dates(org, data)
        except inventory.StockInvalid as exc:
            errors += [
                f"row {number}: {_column(name)}: {msg}"
                for name, msgs in exc.errors.items()
                for msg in msgs
            ]
            continue
        loaded.append(data)
    if errors:
        raise ImportFailed(errors, rows=count)
    return loaded


def _column(name: str) -> str:
    """The sheet's name of an input field."""
    return "count" if name == "quantity" else name


def record_rows(
    session: Session, actor: Actor | None, org: Organization, loaded: Iterable[dict[str, Any]]
) -> list[StockEntry]:
    """Record checked rows (the caller commits once, or rolls everything back)."""
    return inventory.record_many(session, actor, org, loaded, "csv")


def import_counts(
    session: Session, actor: Actor | None, org: Organization, stream: TextIO
) -> list[StockEntry]:
    """Read, check and record an inventory sheet for one organization: all rows or none."""
    loaded = check_rows(session, actor, org, read_rows(stream))
    return record_rows(session, actor, org, loaded)
