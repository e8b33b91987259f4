"""A page of listings as plain rows: only the columns the output schemas read, in one query.

The list views dump these rows with the same schemas as single listings (the schema stays the
contract); building ORM objects, with their organization and category, cost more than the
query itself. tests/blueprints/test_fast_paths.py checks a page dumps as its ORM objects do.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa

from coalition.models.catalog import Category
from coalition.models.listings import Listing
from coalition.models.organizations import Organization

LISTING_COLUMNS = (
    "id", "organization_id", "kind", "quantity", "reserved", "fulfilled", "status", "lat",
    "lon", "max_distance_km", "notes", "visibility", "credentials", "languages", "remote_ok",
    "windows", "version", "created_at", "updated_at", "withdrawn_at", "expires_on", "need_by",
    "urgency", "accepts_expired",
)  # fmt: skip
JOINED = (
    Category.slug.label("category_slug"),
    Category.unit.label("category_unit"),
    Organization.slug.label("organization_slug"),
    Organization.show_name.label("organization_show_name"),
)


def row_columns(query: sa.Select[Any]) -> sa.Select[Any]:
    """The listings query (joined to categories and organizations) narrowed to these columns."""
    columns = [getattr(Listing, name) for name in LISTING_COLUMNS]
    return query.with_only_columns(*columns, *JOINED)


def listing_view(row: Any) -> SimpleNamespace:
    """A row read by the listing schemas as they read a Listing."""
    values = row._mapping
    view = SimpleNamespace(**{name: values[name] for name in LISTING_COLUMNS})
    view.available = view.quantity - view.reserved - view.fulfilled
    view.unit = values["category_unit"]
    view.category = SimpleNamespace(slug=values["category_slug"])
    view.organization = SimpleNamespace(
        id=view.organization_id,
        slug=values["organization_slug"],
        show_name=values["organization_show_name"],
    )  # what the schema and the discretion rule read of it
    return view
