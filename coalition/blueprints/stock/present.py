"""Forecasts in words: "Naloxone: about 9 days left (6–13)", for the home page and stock pages."""

from __future__ import annotations

import math
from datetime import date
from types import SimpleNamespace
from typing import Any

from flask_babel import format_date, gettext, ngettext

from coalition.extensions import db
from coalition.labels import translated
from coalition.models.inventory import StockForecast, StockSuggestion
from coalition.services import forecast, inventory, proactive

# fewer days left than this is shown as urgent
URGENT_DAYS = 14


def days_text(row: StockForecast | None) -> str:
    """How long the stock lasts, with its band; or why there is no forecast yet."""
    if row is None:
        return gettext("forecast after the next count")
    if row.rate is None:
        return gettext("count again in a few days for a forecast")
    if row.days_left is None:
        return gettext("no use recorded lately")
    days = max(round(row.days_left), 0)
    low = max(math.floor(row.days_low or 0), 0)
    if row.days_high is None:
        return ngettext(
            "about %(num)d day left (%(low)d or more)",
            "about %(num)d days left (%(low)d or more)",
            days,
            low=low,
        )
    high = max(math.ceil(row.days_high), days)
    return ngettext(
        "about %(num)d day left (%(low)d–%(high)d)",
        "about %(num)d days left (%(low)d–%(high)d)",
        days,
        low=min(low, days),
        high=high,
    )


def is_urgent(row: StockForecast | None) -> bool:
    """Whether the stock is forecast to run out within URGENT_DAYS."""
    return row is not None and row.days_left is not None and row.days_left < URGENT_DAYS


def supply_lines(org_id: int) -> list[dict[str, Any]]:
    """One line per counted category, soonest to run out first."""
    found = forecast.forecasts_for(db.session, org_id)
    lines = []
    for row in inventory.level_rows(db.session, org_id):
        category, fc = row["category"], found.get(row["category"].id)
        lines.append(
            {
                "category": category,
                "level": row["level"],
                "forecast": fc,
                "text": f"{translated(category.plain_label)}: {days_text(fc)}",
                "days": days_text(fc),
                "urgent": is_urgent(fc),
                "sort": fc.days_left if fc is not None and fc.days_left is not None else 1e9,
            }
        )
    return sorted(lines, key=lambda line: line["sort"])


def suggestion_text(suggestion: StockSuggestion) -> str:
    """What the forecast suggested and why, e.g. "We suggested asking for 120: about 9 days
    left (6–13), lead time 14 days"."""
    f = suggestion.figures or {}
    label = translated(suggestion.category.plain_label)
    if suggestion.direction == "offer":
        expires = format_date(date.fromisoformat(f["expires_on"])) if f.get("expires_on") else ""
        return gettext(
            "%(what)s: the forecast suggests offering %(units)s that would expire unused on "
            "%(date)s.",
            what=label,
            units=f.get("quantity"),
            date=expires,
        )
    figures = SimpleNamespace(
        rate=f.get("rate"),
        days_left=f.get("days_left"),
        days_low=f.get("days_low"),
        days_high=f.get("days_high"),
    )
    return gettext(
        "%(what)s: the forecast suggests asking for %(units)s (%(days)s; you need %(lead)s "
        "days to restock).",
        what=label,
        units=f.get("quantity"),
        days=days_text(figures),  # type: ignore[arg-type]
        lead=f.get("lead_days"),
    )


def suggestions_for(org_id: int) -> list[dict[str, Any]]:
    """The organization's active suggestions with their words."""
    return [
        {"suggestion": s, "text": suggestion_text(s)} for s in proactive.for_org(db.session, org_id)
    ]
