"""The category catalog as plain data: loaded by a migration and by `seed_categories`.

Each entry: slug, kind ('supply' | 'staffing'), unit, plain_label, neutral_label,
credentials (what a staffing role usually needs), sort_order. Keep this module free of
imports from the app so that migrations can read it as it was when they were written.
"""

from __future__ import annotations

from typing import Any

SUPPLIES: list[dict[str, Any]] = [
    {
        "slug": "naloxone-nasal-4mg",
        "unit": "units (4 mg nasal spray)",
        "plain_label": "Naloxone nasal spray 4 mg",
        "neutral_label": "Medical supplies",
    },
    {
        "slug": "naloxone-im-vial",
        "unit": "vials (0.4 mg/mL)",
        "plain_label": "Naloxone intramuscular vials",
        "neutral_label": "Medical supplies",
    },
    {
        "slug": "fentanyl-test-strips",
        "unit": "strips",
        "plain_label": "Fentanyl test strips",
        "neutral_label": "Health supplies",
    },
    {
        "slug": "xylazine-test-strips",
        "unit": "strips",
        "plain_label": "Xylazine test strips",
        "neutral_label": "Health supplies",
    },
    {
        "slug": "syringes-1ml-28g",
        "unit": "syringes",
        "plain_label": "Syringes 1 mL",
        "neutral_label": "Medical supplies",
    },
    {
        "slug": "syringes-3ml-25g",
        "unit": "syringes",
        "plain_label": "Syringes 3 mL",
        "neutral_label": "Medical supplies",
    },
    {
        "slug": "sharps-container-1qt",
        "unit": "containers",
        "plain_label": "Sharps containers",
        "neutral_label": "Medical supplies",
    },
    {
        "slug": "wound-care-kit",
        "unit": "kits",
        "plain_label": "Wound-care kits",
        "neutral_label": "First-aid supplies",
    },
    {
        "slug": "safer-smoking-kit",
        "unit": "kits",
        "plain_label": "Safer-smoking kits",
        "neutral_label": "Health supplies",
    },
    {
        "slug": "hygiene-kit",
        "unit": "kits",
        "plain_label": "Hygiene kits",
        "neutral_label": "Personal care supplies",
    },
    {
        "slug": "nitrile-gloves",
        "unit": "boxes of 100",
        "plain_label": "Nitrile gloves",
        "neutral_label": "Medical supplies",
    },
    {
        "slug": "condoms",
        "unit": "condoms",
        "plain_label": "Condoms",
        "neutral_label": "Health supplies",
    },
]

STAFFING: list[dict[str, Any]] = [
    {
        "slug": "prescriber",
        "plain_label": "Prescriber (buprenorphine)",
        "neutral_label": "Clinical staff",
        "credentials": ["dea-registration", "ny-license"],
    },
    {
        "slug": "registered-nurse",
        "plain_label": "Registered nurse",
        "neutral_label": "Clinical staff",
        "credentials": ["rn-license"],
    },
    {
        "slug": "peer-specialist",
        "plain_label": "Peer specialist",
        "neutral_label": "Support staff",
        "credentials": ["cpp-certification"],
    },
    {
        "slug": "outreach-worker",
        "plain_label": "Outreach worker",
        "neutral_label": "Support staff",
        "credentials": ["naloxone-training"],
    },
    {
        "slug": "counselor",
        "plain_label": "Counselor",
        "neutral_label": "Support staff",
        "credentials": ["casac"],
    },
    {
        "slug": "driver",
        "plain_label": "Driver",
        "neutral_label": "Logistics staff",
        "credentials": ["drivers-license"],
    },
]


def _catalog() -> list[dict[str, Any]]:
    """Supplies then staffing roles, each with kind, unit, credentials and sort order."""
    rows: list[dict[str, Any]] = []
    for entry in SUPPLIES:
        rows.append({"kind": "supply", "credentials": [], **entry})
    for entry in STAFFING:
        rows.append({"kind": "staffing", "unit": "hours", **entry})
    for order, row in enumerate(rows, start=1):
        row["sort_order"] = order * 10
        row["active"] = True
    return rows


CATEGORIES: list[dict[str, Any]] = _catalog()
