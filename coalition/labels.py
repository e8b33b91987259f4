"""Words for stored values (statuses, urgencies, kinds), translated when they are shown."""

from __future__ import annotations

import enum
from typing import Any

from flask_babel import gettext

from coalition.i18n import N_

VALUE_LABELS = {
    # listings
    "offer": N_("offer"),
    "request": N_("request"),
    "open": N_("open"),
    "partly_matched": N_("partly matched"),
    "matched": N_("matched"),
    "withdrawn": N_("withdrawn"),
    "critical": N_("critical"),
    "high": N_("high"),
    "normal": N_("normal"),
    "low": N_("low"),
    "supply": N_("supplies"),
    "staffing": N_("staff time"),
    # matches
    "proposed": N_("proposed"),
    "approved": N_("approved"),
    "accepted": N_("accepted"),
    "handed_off": N_("handed off"),
    "fulfilled": N_("fulfilled"),
    "rejected": N_("rejected"),
    "declined": N_("declined"),
    "cancelled": N_("cancelled"),
    "expired": N_("expired"),
    # organizations
    "pending": N_("pending"),
    "active": N_("active"),
    "suspended": N_("suspended"),
    "syringe_service_program": N_("Syringe service program"),
    "overdose_prevention_center": N_("Overdose prevention center"),
    "drop_in_center": N_("Drop-in center"),
    "outreach_team": N_("Outreach team"),
    "clinic": N_("Clinic"),
    "other": N_("Other"),
    # sending
    "sent": N_("sent"),
    "failed": N_("failed"),
    "retry": N_("retrying"),
    "daily": N_("daily"),
    "weekly": N_("weekly"),
}


def label(value: Any) -> str:
    """The translated word for an enum member or its value; unknown values read as they are."""
    if value is None:
        return ""
    key = value.value if isinstance(value, enum.Enum) else str(value)
    words = VALUE_LABELS.get(key)
    return gettext(words) if words else key.replace("_", " ")


def translated(text: str | None) -> str:
    """A catalog label (category, unit) in the reader's language when the catalog has it."""
    return gettext(text) if text else ""
