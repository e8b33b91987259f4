"""The category catalog: reading it, seeding it, and coordinators' edits."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from coalition.actors import Actor
from coalition.catalog_data import CATEGORIES
from coalition.models.catalog import Category, Kind
from coalition.services.audit import audit, diff
from coalition.services.errors import ServiceError
from coalition.sessions import Session

EDITABLE_FIELDS = (
    "unit",
    "plain_label",
    "neutral_label",
    "credentials",
    "active",
    "sort_order",
    "unit_cost_cents",
)


def seed_categories(session: Session) -> None:
    """Insert the reference categories that are missing (idempotent)."""
    existing = set(session.scalars(sa.select(Category.slug)))
    for row in CATEGORIES:
        if row["slug"] not in existing:
            session.add(Category(**{**row, "kind": Kind(row["kind"])}))
    session.flush()


def all_categories(
    session: Session, kind: str | None = None, active_only: bool = True
) -> list[Category]:
    """Categories in catalog order, optionally of one kind and only the active ones."""
    query = sa.select(Category).order_by(Category.sort_order, Category.plain_label)
    if kind:
        query = query.where(Category.kind == Kind(kind))
    if active_only:
        query = query.where(Category.active.is_(True))
    return list(session.scalars(query))


def category_by_slug(session: Session, slug: str) -> Category | None:
    """Look up a category by its slug."""
    return session.scalar(sa.select(Category).where(Category.slug == slug))


def create_category(
    session: Session, actor: Actor | None, slug: str, kind: Kind, **values: Any
) -> Category:
    """Add a category to the catalog; slugs are unique."""
    if category_by_slug(session, slug) is not None:
        raise ServiceError("A category with this slug already exists.", "slug")
    category = Category(slug=slug, kind=kind, **values)
    session.add(category)
    session.flush()
    audit(session, actor, "category.created", category, category.as_dict())
    return category


def update_category(
    session: Session, actor: Actor | None, category: Category, values: dict[str, Any]
) -> None:
    """Change a category's unit, labels, credentials, order or active flag; audited."""
    unknown = set(values) - set(EDITABLE_FIELDS)
    if unknown:
        raise ServiceError(f"{sorted(unknown)[0]} cannot be changed.", sorted(unknown)[0])
    changes = diff(category, values)
    if changes:
        session.flush()
        audit(session, actor, "category.updated", category, changes)
