"""The category catalog as plain data: loaded by a migration and by `seed_categories`.

Each entry: slug, kind ('supply' | 'staffing'), unit, plain_label, neutral_label,
credentials (what a staffing role usually needs), sort_order. Keep this module free of
imports from the app so that migrations can read it as it was when they were written.
"""

from __future__ import annotations

from typing import Any


def N_(message: str) -> str:
    """Mark a label for translation (pybabel finds it); the pages translate it when shown."""
    return message


SUPPLIES: list[dict[str, Any]] = [
    {
        "slug": "naloxone-nasal-4mg",
        "unit": N_("units (4 mg nasal spray)"),
        "plain_label": N_("Naloxone nasal spray 4 mg"),
        "neutral_label": N_("Medical supplies"),
    },
    {
        "slug": "naloxone-im-vial",
        "unit": N_("vials (0.4 mg/mL)"),
        "plain_label": N_("Naloxone intramuscular vials"),
        "neutral_label": N_("Medical supplies"),
    },
    {
        "slug": "fentanyl-test-strips",
        "unit": N_("strips"),
        "plain_label": N_("Fentanyl test strips"),
        "neutral_label": N_("Health supplies"),
    },
    {
        "slug": "xylazine-test-strips",
        "unit": N_("strips"),
        "plain_label": N_("Xylazine test strips"),
        "neutral_label": N_("Health supplies"),
    },
    {
        "slug": "syringes-1ml-28g",
        "unit": N_("syringes"),
        "plain_label": N_("Syringes 1 mL"),
        "neutral_label": N_("Medical supplies"),
    },
    {
        "slug": "syringes-3ml-25g",
        "unit": N_("syringes"),
        "plain_label": N_("Syringes 3 mL"),
        "neutral_label": N_("Medical supplies"),
    },
    {
        "slug": "sharps-container-1qt",
        "unit": N_("containers"),
        "plain_label": N_("Sharps containers"),
        "neutral_label": N_("Medical supplies"),
    },
    {
        "slug": "wound-care-kit",
        "unit": N_("kits"),
        "plain_label": N_("Wound-care kits"),
        "neutral_label": N_("First-aid supplies"),
    },
    {
        "slug": "safer-smoking-kit",
        "unit": N_("kits"),
        "plain_label": N_("Safer-smoking kits"),
        "neutral_label": N_("Health supplies"),
    },
    {
        "slug": "hygiene-kit",
        "unit": N_("kits"),
        "plain_label": N_("Hygiene kits"),
        "neutral_label": N_("Personal care supplies"),
    },
    {
        "slug": "nitrile-gloves",
        "unit": N_("boxes of 100"),
        "plain_label": N_("Nitrile gloves"),
        "neutral_label": N_("Medical supplies"),
    },
    {
        "slug": "condoms",
        "unit": N_("condoms"),
        "plain_label": N_("Condoms"),
        "neutral_label": N_("Health supplies"),
    },
]

STAFFING: list[dict[str, Any]] = [
    {
        "slug": "prescriber",
        "plain_label": N_("Prescriber (buprenorphine)"),
        "neutral_label": N_("Clinical staff"),
        "credentials": ["dea-registration", "ny-license"],
    },
    {
        "slug": "registered-nurse",
        "plain_label": N_("Registered nurse"),
        "neutral_label": N_("Clinical staff"),
        "credentials": ["rn-license"],
    },
    {
        "slug": "peer-specialist",
        "plain_label": N_("Peer specialist"),
        "neutral_label": N_("Support staff"),
        "credentials": ["cpp-certification"],
    },
    {
        "slug": "outreach-worker",
        "plain_label": N_("Outreach worker"),
        "neutral_label": N_("Support staff"),
        "credentials": ["naloxone-training"],
    },
    {
        "slug": "counselor",
        "plain_label": N_("Counselor"),
        "neutral_label": N_("Support staff"),
        "credentials": ["casac"],
    },
    {
        "slug": "driver",
        "plain_label": N_("Driver"),
        "neutral_label": N_("Logistics staff"),
        "credentials": ["drivers-license"],
    },
]


def _catalog() -> list[dict[str, Any]]:
    """Supplies then staffing roles, each with kind, unit, credentials and sort order."""
    rows: list[dict[str, Any]] = []
    for entry in SUPPLIES:
        rows.append({"kind": "supply", "credentials": [], **entry})
    for entry in STAFFING:
        rows.append({"kind": "staffing", "unit": N_("hours"), **entry})
    for order, row in enumerate(rows, start=1):
        row["sort_order"] = order * 10
        row["active"] = True
    return rows


CATEGORIES: list[dict[str, Any]] = _catalog()
