"""Impact figures from the ledger of fulfilled matches (never from proposals).

One implementation for the pages, the API, the CSV and PDF reports, the CLI and the digest.
The worker keeps `impact_facts` (one narrow row per fulfilled match) and its monthly
rollups from `match.fulfilled` (`facts`, `rollup`); `rebuild_facts` re-creates them from the
matches table. Figures are a few grouped queries (`sources`) over the rollups for a period's
whole months and over the facts otherwise, filtered by a `Scope` (`scope`), and assembled
with labels and wording in Python (`compute`). Program and funder tags are in `tags`, the
transfers export in `transfers`.
"""

from coalition.services.impact.compute import compute, compute_from_facts
from coalition.services.impact.facts import (
    fact_values,
    fulfilled_count,
    is_short_dated,
    rebuild_facts,
    record_fulfilled,
)
from coalition.services.impact.figures import (
    CategoryFigure,
    Figures,
    MonthFigure,
    PlaceFigure,
    neutral_unit,
)
from coalition.services.impact.scope import (
    GROUP_BYS,
    OTHER_ORGS,
    SHORT_DATED_DAYS,
    TAG_MAX,
    TIMEZONE,
    Scope,
    Wording,
)
from coalition.services.impact.tags import (
    listing_tags,
    normalize_tag,
    organization_tags,
    set_listing_tags,
)
from coalition.services.impact.transfers import TRANSFER_COLUMNS, fact_count, transfers

__all__ = [
    "GROUP_BYS",
    "OTHER_ORGS",
    "SHORT_DATED_DAYS",
    "TAG_MAX",
    "TIMEZONE",
    "TRANSFER_COLUMNS",
    "CategoryFigure",
    "Figures",
    "MonthFigure",
    "PlaceFigure",
    "Scope",
    "Wording",
    "compute",
    "compute_from_facts",
    "fact_count",
    "fact_values",
    "fulfilled_count",
    "is_short_dated",
    "listing_tags",
    "neutral_unit",
    "normalize_tag",
    "organization_tags",
    "rebuild_facts",
    "record_fulfilled",
    "set_listing_tags",
    "transfers",
]
