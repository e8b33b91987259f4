"""Coordinators set each category's unit cost on /catalog/; members cannot."""

from __future__ import annotations

from coalition.extensions import db
from coalition.services import catalog
from tests.factories import CoordinatorFactory, UserFactory


def form(category, **values):
    prefix = f"c{category.id}-"
    data = {
        "unit": category.unit,
        "plain_label": category.plain_label,
        "neutral_label": category.neutral_label,
        "credentials": "",
        "sort_order": str(category.sort_order),
        "active": "y",
        **values,
    }
    return {prefix + key: value for key, value in data.items()}


def test_a_coordinator_sets_a_unit_cost(login, unit_costs):
    category = catalog.category_by_slug(db.session, "naloxone-nasal-4mg")
    client = login(CoordinatorFactory())
    saved = client.post(f"/catalog/{category.id}", data=form(category, unit_cost="47.50"))
    assert saved.status_code == 302
    db.session.refresh(category)
    assert category.unit_cost_cents == 4750
    page = client.get("/catalog/").get_data(as_text=True)
    assert "$47.50 each" in page and 'value="47.50"' in page
    bad = client.post(f"/catalog/{category.id}", data=form(category, unit_cost="-3"))
    assert bad.status_code == 422
    db.session.refresh(category)
    assert category.unit_cost_cents == 4750


def test_a_member_cannot_set_a_unit_cost(login, unit_costs):
    category = catalog.category_by_slug(db.session, "naloxone-nasal-4mg")
    refused = login(UserFactory()).post(
        f"/catalog/{category.id}", data=form(category, unit_cost="1")
    )
    assert refused.status_code == 403
    db.session.refresh(category)
    assert category.unit_cost_cents == 4500
