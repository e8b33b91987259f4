"""The catalog page: a coordinator edits and adds categories; an inactive one is refused."""

from __future__ import annotations

from coalition.extensions import db
from coalition.services import catalog
from tests.listings_support import send_csrf


def test_coordinator_edits_a_category(world, as_role, restore_catalog):
    category = catalog.category_by_slug(db.session, "condoms")
    prefix = f"c{category.id}-"
    response = as_role("coordinator").post(
        f"/catalog/{category.id}",
        data={
            prefix + "unit": "boxes of 144",
            prefix + "plain_label": "Condoms",
            prefix + "neutral_label": "Health supplies",
            prefix + "credentials": "",
            prefix + "sort_order": "5",
        },
    )
    assert response.status_code == 302
    db.session.refresh(category)
    assert (category.unit, category.active, category.sort_order) == ("boxes of 144", False, 5)
    refused = send_csrf(as_role("member")).post(
        "/api/v1/offers", json={"category": "condoms", "quantity": 3}
    )
    assert refused.status_code == 422
    assert refused.json["errors"]["category"] == ["this category is no longer in use"]
    created = as_role("coordinator").post(
        "/catalog/",
        data={
            "slug": "test-naloxone-kits",
            "kind": "supply",
            "unit": "kits",
            "plain_label": "Naloxone kits",
            "neutral_label": "Medical supplies",
            "sort_order": "1",
            "active": "y",
        },
    )
    assert created.status_code == 302
    assert catalog.category_by_slug(db.session, "test-naloxone-kits").active is True
