"""Figures as plain data: the API's JSON, the CSV of every figure, the tables of the pages."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

from coalition.blueprints.impact.access import Report
from coalition.services.impact import TRANSFER_COLUMNS, Figures


def usd(cents: int) -> float:
    """Cents as dollars."""
    return round(cents / 100, 2)


def totals(figures: Figures) -> dict[str, Any]:
    """The period's figures."""
    return {
        "transfers": figures.transfers,
        "units": figures.units,
        "hours": figures.hours,
        "value_usd": usd(figures.value_cents),
        "short_dated_units": figures.short_dated,
        "organizations_gave": figures.givers,
        "organizations_received": figures.receivers,
        "requests_filled": figures.requests_filled,
        "requests_filled_by_need_by": figures.requests_on_time,
        "requests_with_need_by": figures.requests_with_need_by,
        "median_days_to_receipt": figures.median_days,
    }


def groups(figures: Figures, group_by: str) -> list[dict[str, Any]]:
    """The rows of one grouping."""
    return GROUPERS[group_by](figures)


def _by_category(figures: Figures) -> list[dict[str, Any]]:
    return [
        {
            "key": c.key,
            "label": c.label,
            "kind": c.kind,
            "unit": c.unit,
            "transfers": c.transfers,
            "quantity": c.quantity,
            "value_usd": usd(c.value_cents),
            "short_dated_units": c.short_dated,
        }
        for c in figures.categories
    ]


def _by_month(figures: Figures) -> list[dict[str, Any]]:
    return [
        {
            "key": m.month,
            "label": m.month,
            "transfers": m.transfers,
            "units": m.units,
            "hours": m.hours,
            "value_usd": usd(m.value_cents),
            "short_dated_units": m.short_dated,
            "median_days_to_receipt": m.median_days,
        }
        for m in figures.months
    ]


def _places(places: Iterable[Any]) -> list[dict[str, Any]]:
    return [
        {
            "key": p.name,
            "label": p.name,
            "transfers": p.gave_transfers + p.received_transfers,
            "gave_transfers": p.gave_transfers,
            "received_transfers": p.received_transfers,
            "units": p.gave_units + p.received_units,
            "hours": p.gave_hours + p.received_hours,
        }
        for p in places
    ]


GROUPERS = {
    "category": _by_category,
    "month": _by_month,
    "borough": lambda f: _places(f.boroughs),
    "organization": lambda f: _places(f.organizations),
}


def as_json(report: Report, figures: Figures, coalition: Figures | None) -> dict[str, Any]:
    """The API's answer."""
    return {
        "period": {"from": str(report.scope.start), "to": str(report.scope.end)},
        "scope": report.organization.slug if report.organization else "coalition",
        "neutral": report.neutral,
        "tag": report.scope.tag,
        "group_by": report.group_by,
        "totals": totals(figures),
        "groups": groups(figures, report.group_by),
        "coalition": totals(coalition) if coalition else None,
    }


# ---------------------------------------------------------------- CSV

FIGURE_COLUMNS = ("section", "key", "label", "figure", "value")


def figure_rows(report: Report, figures: Figures, coalition: Figures | None) -> Iterator[list[Any]]:
    """Every figure as one long table: section, key, label, figure, value."""
    yield ["report", "", report.title, "period", report.period_label]
    for name, value in totals(figures).items():
        yield ["totals", "", "", name, "" if value is None else value]
    for section in ("category", "month", "borough", "organization"):
        for row in groups(figures, section):
            for name, value in row.items():
                if name not in ("key", "label", "kind", "unit"):
                    yield [section, row["key"], _label(row), name, "" if value is None else value]
    if coalition:
        for name, value in totals(coalition).items():
            yield ["coalition totals", "", "", name, "" if value is None else value]


def _label(row: dict[str, Any]) -> str:
    """A row's label with its unit, if it has one."""
    return f"{row['label']} ({row['unit']})" if row.get("unit") else str(row["label"])


def to_csv(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """CSV text, one line at a time (for streaming)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in _chain(header, rows):
        writer.writerow(row)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def _chain(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> Iterator[Iterable[Any]]:
    """The header, then the rows."""
    yield header
    yield from rows


def transfer_rows(rows: Iterable[dict[str, Any]]) -> Iterator[list[Any]]:
    """The underlying transfers as CSV rows."""
    for row in rows:
        yield [row[c] for c in TRANSFER_COLUMNS]
