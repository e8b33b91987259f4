"""The figures of a scope, assembled from the rows of its source, in the wording asked for.

Labels, neutral merging and unit costs are applied here, after the queries, so a
coordinator's change of a unit cost or a label shows at once.
"""

from __future__ import annotations

import sqlalchemy as sa

from coalition.models.catalog import Category, Kind
from coalition.models.organizations import Organization
from coalition.services.impact.figures import (
    CategoryFigure,
    Figures,
    MonthFigure,
    PlaceFigure,
    neutral_unit,
)
from coalition.services.impact.scope import OTHER_ORGS, Scope, Wording
from coalition.services.impact.sources import FactsSource, Source, source_for
from coalition.sessions import Session


def compute(
    session: Session, scope: Scope, wording: Wording = Wording(), with_orgs: bool = False
) -> Figures:
    """Every figure of the scope, in the wording asked for."""
    return compute_from(session, source_for(session, scope), scope, wording, with_orgs)


def compute_from_facts(
    session: Session, scope: Scope, wording: Wording = Wording(), with_orgs: bool = False
) -> Figures:
    """The same figures, always grouped from the facts (what the rollups must agree with)."""
    source = FactsSource(session, scope.conditions())
    return compute_from(session, source, scope, wording, with_orgs)


def compute_from(
    session: Session, source: Source, scope: Scope, wording: Wording, with_orgs: bool
) -> Figures:
    """Every figure of the scope from one source."""
    categories = {c.id: c for c in session.scalars(sa.select(Category))}
    figures = Figures(scope=scope, neutral=wording.neutral)
    months = _by_month_and_category(source, scope, categories, wording, figures)
    _add_people(source, figures, months)
    figures.median_days = source.median_total()
    for month, value in source.medians_by_month().items():
        months.setdefault(month, MonthFigure(month)).median_days = value
    figures.months = [months[m] for m in sorted(months)]
    figures.boroughs = _boroughs(source)
    if with_orgs:
        figures.organizations = _organizations(session, source, wording)
    return figures


def _by_month_and_category(
    source: Source,
    scope: Scope,
    categories: dict[int, Category],
    wording: Wording,
    figures: Figures,
) -> dict[str, MonthFigure]:
    """Totals, categories and the monthly series from the (month, category) rows."""
    months: dict[str, MonthFigure] = {}
    by_key: dict[str, CategoryFigure] = {}
    for month, category_id, transfers, quantity, short, gave_q in source.month_category_rows(
        scope.organization_id
    ):
        category = categories[category_id]
        value = int(quantity) * category.unit_cost_cents
        _add_category(by_key, category, wording.neutral, int(transfers), int(quantity), value)
        entry = by_key[_category_key(category, wording.neutral)]
        entry.short_dated += int(short or 0)
        entry.gave += int(gave_q or 0)
        _add_month(months.setdefault(month, MonthFigure(month)), category, transfers, quantity)
        months[month].value_cents += value
        months[month].short_dated += int(short or 0)
    for entry in by_key.values():
        entry.received = entry.quantity - entry.gave if scope.organization_id else 0
    figures.categories = sorted(by_key.values(), key=lambda c: (c.kind != "supply", -c.quantity))
    _add_totals(figures)
    return months


def _category_key(category: Category, neutral: bool) -> str:
    """Neutral wording merges categories that share a neutral label."""
    return f"{category.kind.value}:{category.neutral_label}" if neutral else category.slug


def _add_category(
    by_key: dict[str, CategoryFigure],
    category: Category,
    neutral: bool,
    transfers: int,
    quantity: int,
    value: int,
) -> None:
    """Add one (month, category) row to its category figure."""
    key = _category_key(category, neutral)
    if key not in by_key:
        by_key[key] = CategoryFigure(
            key=key,
            label=category.label(neutral),
            kind=category.kind.value,
            unit=neutral_unit(category) if neutral else category.unit,
        )
    entry = by_key[key]
    entry.quantity += quantity
    entry.transfers += transfers
    entry.value_cents += value


def _add_month(month: MonthFigure, category: Category, transfers: int, quantity: int) -> None:
    """Add one (month, category) row to its month."""
    month.transfers += int(transfers)
    if category.kind == Kind.STAFFING:
        month.hours += int(quantity)
    else:
        month.units += int(quantity)


def _add_totals(figures: Figures) -> None:
    """Period totals from the category figures."""
    for c in figures.categories:
        figures.transfers += c.transfers
        figures.value_cents += c.value_cents
        figures.short_dated += c.short_dated
        if c.kind == Kind.STAFFING.value:
            figures.hours += c.quantity
        else:
            figures.units += c.quantity


def _add_people(source: Source, figures: Figures, months: dict[str, MonthFigure]) -> None:
    """Distinct organizations and requests, for the period and for each month."""
    (
        figures.givers,
        figures.receivers,
        figures.requests_filled,
        figures.requests_on_time,
        figures.requests_with_need_by,
    ) = (int(v) for v in source.people_total())
    for month, givers, receivers, filled, on_time, _with_need_by in source.people_by_month():
        entry = months.setdefault(month, MonthFigure(month))
        entry.givers, entry.receivers = int(givers), int(receivers)
        entry.requests_filled, entry.requests_on_time = int(filled), int(on_time)


def _boroughs(source: Source) -> list[PlaceFigure]:
    """What each borough's organizations gave and received."""
    places: dict[str, PlaceFigure] = {}
    for side in ("gave", "received"):
        for name, transfers, units, hours in source.side_totals(side, "borough"):
            _add_place(places.setdefault(name or "—", PlaceFigure(name or "—")), side,
                       transfers, units, hours)  # fmt: skip
    return sorted(places.values(), key=lambda p: p.name)


def _add_place(place: PlaceFigure, side: str, transfers: int, units: int, hours: int) -> None:
    """Add one side's totals to a place."""
    setattr(place, f"{side}_transfers", getattr(place, f"{side}_transfers") + int(transfers))
    setattr(place, f"{side}_units", getattr(place, f"{side}_units") + int(units or 0))
    setattr(place, f"{side}_hours", getattr(place, f"{side}_hours") + int(hours or 0))


def _organizations(session: Session, source: Source, wording: Wording) -> list[PlaceFigure]:
    """What each organization gave and received; unnamed ones are summed into one row."""
    names = dict(session.execute(sa.select(Organization.id, Organization.name)).all())
    places: dict[str, PlaceFigure] = {}
    for side in ("gave", "received"):
        for org_id, transfers, units, hours in source.side_totals(side, "organization"):
            named = wording.named_ids is None or org_id in wording.named_ids
            name = names.get(org_id, "?") if named else OTHER_ORGS
            _add_place(places.setdefault(name, PlaceFigure(name)), side, transfers, units, hours)
    return sorted(places.values(), key=lambda p: (p.name == OTHER_ORGS, p.name))
