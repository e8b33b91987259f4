"""The underlying transfers of a scope, one row per fulfilled match, for the CSV export."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

from coalition.models.catalog import Category
from coalition.models.impact import ImpactFact
from coalition.models.organizations import Organization
from coalition.services.impact.figures import neutral_unit
from coalition.services.impact.scope import Scope, Wording
from coalition.sessions import Session

F = ImpactFact

TRANSFER_COLUMNS = (
    "match",
    "received_on",
    "category",
    "kind",
    "quantity",
    "unit",
    "value_usd",
    "short_dated",
    "giver",
    "giver_borough",
    "receiver",
    "receiver_borough",
    "days_to_receipt",
    "need_by",
    "on_time",
)


def transfers(session: Session, scope: Scope, wording: Wording) -> Iterator[dict[str, Any]]:
    """Every fulfilled match of the scope, oldest first, in the wording asked for."""
    categories = {c.id: c for c in session.scalars(sa.select(Category))}
    names = dict(session.execute(sa.select(Organization.id, Organization.name)).all())
    query = sa.select(F).where(*scope.conditions()).order_by(F.received_at, F.match_id)
    for fact in session.scalars(query.execution_options(yield_per=1000)):
        yield _transfer_row(fact, categories[fact.category_id], names, wording)


def _transfer_row(
    fact: ImpactFact, category: Category, names: dict[int, str], wording: Wording
) -> dict[str, Any]:
    """One transfer as a CSV row."""

    def who(org_id: int) -> str:
        named = wording.named_ids is None or org_id in wording.named_ids
        return names.get(org_id, "?") if named else "A member organization"

    return {
        "match": fact.match_id,
        "received_on": fact.received_on.isoformat(),
        "category": category.label(wording.neutral),
        "kind": fact.kind.value,
        "quantity": fact.quantity,
        "unit": neutral_unit(category) if wording.neutral else category.unit,
        "value_usd": f"{fact.quantity * category.unit_cost_cents / 100:.2f}",
        "short_dated": fact.short_dated,
        "giver": who(fact.giver_id),
        "giver_borough": fact.giver_borough,
        "receiver": who(fact.receiver_id),
        "receiver_borough": fact.receiver_borough,
        "days_to_receipt": round(fact.hours_to_receipt / 24, 1),
        "need_by": fact.need_by.isoformat() if fact.need_by else "",
        "on_time": "yes" if fact.on_time else ("no" if fact.need_by else ""),
    }


def fact_count(session: Session, scope: Scope) -> int:
    """How many transfers a scope holds (for progress bars)."""
    return session.scalar(sa.select(sa.func.count()).where(*scope.conditions())) or 0
