"""The impact figures of a scope, as the pages, reports, API and digest show them."""

from __future__ import annotations

from dataclasses import dataclass, field

from coalition.models.catalog import Category, Kind
from coalition.services.impact.scope import Scope


@dataclass
class CategoryFigure:
    """One category (or, in neutral wording, one neutral label) of a period."""

    key: str
    label: str
    kind: str
    unit: str
    quantity: int = 0
    transfers: int = 0
    value_cents: int = 0
    short_dated: int = 0
    gave: int = 0
    received: int = 0


@dataclass
class MonthFigure:
    """One month of the series."""

    month: str
    transfers: int = 0
    units: int = 0
    hours: int = 0
    value_cents: int = 0
    short_dated: int = 0
    givers: int = 0
    receivers: int = 0
    requests_filled: int = 0
    requests_on_time: int = 0
    median_days: float | None = None


@dataclass
class PlaceFigure:
    """What a borough (or an organization) gave and received."""

    name: str
    gave_transfers: int = 0
    gave_units: int = 0
    gave_hours: int = 0
    received_transfers: int = 0
    received_units: int = 0
    received_hours: int = 0


@dataclass
class Figures:
    """Every impact figure of a scope."""

    scope: Scope
    neutral: bool
    transfers: int = 0
    units: int = 0
    hours: int = 0
    value_cents: int = 0
    short_dated: int = 0
    givers: int = 0
    receivers: int = 0
    requests_filled: int = 0
    requests_on_time: int = 0
    requests_with_need_by: int = 0
    median_days: float | None = None
    categories: list[CategoryFigure] = field(default_factory=list)
    months: list[MonthFigure] = field(default_factory=list)
    boroughs: list[PlaceFigure] = field(default_factory=list)
    organizations: list[PlaceFigure] = field(default_factory=list)

    @property
    def supplies(self) -> list[CategoryFigure]:
        """Units shared by category."""
        return [c for c in self.categories if c.kind == Kind.SUPPLY.value]

    @property
    def staffing(self) -> list[CategoryFigure]:
        """Staff hours shared by role."""
        return [c for c in self.categories if c.kind == Kind.STAFFING.value]

    @property
    def supply_value_cents(self) -> int:
        """The estimated value of the supplies shared."""
        return sum(c.value_cents for c in self.supplies)

    @property
    def staff_value_cents(self) -> int:
        """The estimated value of the staff time shared."""
        return sum(c.value_cents for c in self.staffing)

    @property
    def value_dollars(self) -> int:
        """The estimated value, in whole dollars."""
        return round(self.value_cents / 100)


def neutral_unit(category: Category) -> str:
    """Neutral wording says only units or hours."""
    return "hours" if category.kind == Kind.STAFFING else "units"
