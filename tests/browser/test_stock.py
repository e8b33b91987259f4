"""Stock in a real browser at 1366 px and 390 px, in English and Spanish: the quick count,
a mistake shown on its field, the stock page with its days of supply, and the home page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from coalition.extensions import db
from coalition.services import forecast, inventory
from tests.browser.test_journeys import look, person_page, sign_in
from tests.factories import UserFactory, category

pytestmark = pytest.mark.browser
__all__ = ["person_page"]

SEEN = {
    "en": {
        "error": "must be a whole number, 0 or more",
        "saved": "Counted: 40",
        "days": "days left",
    },
    "es": {"error": "debe ser un número entero, 0 o más", "saved": "Contado: 40", "days": "quedan"},
}


def _history(org: Any) -> None:
    """Two weeks of counts, so that there is a rate."""
    now = datetime.now(UTC)
    for days_ago, quantity in ((14, 180), (7, 110)):
        data = inventory.load_entry(
            {"category": "naloxone-nasal-4mg", "quantity": quantity, "lot": "L-2",
             "expires_on": (now + timedelta(days=20)).date().isoformat()}
        )  # fmt: skip
        inventory.record(db.session, None, org, data, "test", now=now - timedelta(days=days_ago))
    db.session.commit()


def test_a_member_counts_stock_on_a_phone_and_sees_days_of_supply(
    person_page: Any, live_server: str
) -> None:
    page = person_page
    _, lang = page.journey
    member = UserFactory(email=f"counter-{lang}-{page.journey[0]}@example.org")
    _history(member.organization)
    sign_in(page, live_server, member.email)
    page.goto(f"{live_server}/stock/count")
    look(page, "stock-count")
    page.locator("#category").select_option("naloxone-nasal-4mg")
    page.locator("#quantity").fill("-4")
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".errors").first).to_contain_text(SEEN[lang]["error"])
    look(page, "stock-count-error")
    page.locator("#quantity").fill("40")
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".flash.success")).to_contain_text(SEEN[lang]["saved"])
    forecast.refresh(db.session, member.organization_id, category("naloxone-nasal-4mg").id)
    db.session.commit()
    page.goto(f"{live_server}/stock/")
    expect(page.locator("#stock-naloxone-nasal-4mg")).to_contain_text(SEEN[lang]["days"])
    look(page, "stock-index")
    page.goto(f"{live_server}/")
    expect(page.locator("#supply")).to_contain_text(SEEN[lang]["days"])
    look(page, "stock-home")
    page.goto(f"{live_server}/stock/history")
    look(page, "stock-history")


def test_credentials_suggestions_and_the_risk_page(person_page: Any, live_server: str) -> None:
    from coalition.services import proactive
    from tests.factories import CoordinatorFactory

    page = person_page
    width, lang = page.journey
    member = UserFactory(email=f"risk-{lang}-{width}@example.org")
    _history(member.organization)
    naloxone = category("naloxone-nasal-4mg")
    forecast.refresh(db.session, member.organization_id, naloxone.id)
    proactive.evaluate(db.session, member.organization_id, naloxone.id)
    db.session.commit()
    sign_in(page, live_server, member.email)
    expect(page.locator("#supply .notice").first).to_be_visible()
    look(page, "stock-home-suggested")
    page.goto(f"{live_server}/stock/")
    expect(page.locator("#suggestions")).to_be_visible()
    look(page, "stock-index-suggested")
    page.goto(f"{live_server}/stock/credentials")
    look(page, "stock-credentials")
    page.context.clear_cookies()
    coordinator = CoordinatorFactory(email=f"coord-{lang}-{width}@example.org")
    sign_in(page, live_server, coordinator.email)
    page.goto(f"{live_server}/stock/risk")
    expect(page.locator(f"#risk-{member.organization.slug}-naloxone-nasal-4mg")).to_be_visible()
    look(page, "stock-risk")
