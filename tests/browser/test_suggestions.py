"""In a real browser, under the page's Content-Security-Policy: as a member fills in an offer,
the form shows who nearby could use it (htmx from coalition/static/vendor), without names."""

from __future__ import annotations

from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.browser.test_post_offer import sign_in
from tests.factories import OrganizationFactory, RequestFactory, UserFactory

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).parent / "screenshots"
VENDORED = Path(__file__).parents[2] / "coalition" / "static" / "vendor" / "htmx.min.js"


@pytest.mark.parametrize("width", [1366, 390])
def test_a_suggestion_appears_while_the_offer_is_written(browser, live_server, csrf_on, width):
    assert VENDORED.exists(), "run `make htmx` (make install does) to vendor htmx"
    member = UserFactory(organization=OrganizationFactory(name="Bushwick Exchange"))
    needy = OrganizationFactory(name="Secret Clinic", borough="Queens", lat=40.71)
    RequestFactory(organization=needy, quantity=80, urgency="critical")
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(page, live_server, member.email)
    page.goto(f"{live_server}/listings/new?direction=offer")
    box = page.locator("#suggestions")
    page.get_by_label("What").select_option("fentanyl-test-strips")
    expect(box).to_contain_text("No open request nearby fits this right now.")
    page.get_by_label("What").select_option("naloxone-nasal-4mg")
    page.get_by_label("Quantity").fill("120")
    expect(box).to_contain_text("1 organization within 30 km needs this.")
    expect(box).to_contain_text("Open requests could take 80 of your 120")
    expect(box.get_by_text("Critical need")).to_be_visible()
    expect(box).not_to_contain_text("Secret Clinic")
    page.get_by_label("Quantity").fill("-1")
    expect(box).to_contain_text("Quantity: Enter a whole number of 1 or more.")
    page.get_by_label("Quantity").fill("50")
    expect(box).to_contain_text("Open requests could take 50 of your 50")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    serious = [
        v["id"]
        for v in Axe().run(page).response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == []
    refused = [e for e in errors if "Content Security Policy" in e or "Refused" in e]
    assert refused == [], errors  # htmx adds no inline style and evaluates nothing
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"suggestions-en-{width}.png"), full_page=True)
    page.get_by_role("button", name="Post offer").click()
    expect(page.get_by_text("Your offer is posted.")).to_be_visible()
    context.close()
