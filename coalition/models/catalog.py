"""The category catalog: what can be shared, in which unit, under which words."""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from coalition.extensions import Model
from coalition.models.base import enum_column


class Kind(enum.StrEnum):
    """Supplies are counted in units; staffing in hours."""

    SUPPLY = "supply"
    STAFFING = "staffing"


class Category(Model):
    """A kind of supply or a staffing role, with its plain and neutral labels."""

    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True, index=True)
    kind: Mapped[Kind] = mapped_column(enum_column(Kind, "listing_kind"))
    unit: Mapped[str] = mapped_column(String(60))
    plain_label: Mapped[str] = mapped_column(String(120))
    neutral_label: Mapped[str] = mapped_column(String(120))
    credentials: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    # what one unit (or one hour) is worth, in cents, for the impact figures' estimated value
    unit_cost_cents: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # a credential kind receivers must hold (verified, unexpired) to be proposed this category
    requires_credential: Mapped[str] = mapped_column(String(60), default="", server_default="")

    def label(self, discreet: bool = False) -> str:
        """The plain label, or the neutral one for discreet wording."""
        return self.neutral_label if discreet else self.plain_label

    def as_dict(self) -> dict[str, Any]:
        """The catalog fields, as reference data holds them."""
        return {
            "slug": self.slug,
            "kind": self.kind.value,
            "unit": self.unit,
            "plain_label": self.plain_label,
            "neutral_label": self.neutral_label,
            "credentials": list(self.credentials or []),
            "active": self.active,
            "sort_order": self.sort_order,
            "unit_cost_cents": self.unit_cost_cents,
        }

    def __str__(self) -> str:
        return self.slug

    def __repr__(self) -> str:
        return f"<Category {self.slug}>"
