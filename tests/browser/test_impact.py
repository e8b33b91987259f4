"""In a real browser, at 1366 and 390 px: the coalition and organization impact pages, their
charts and tables, and axe finds no accessibility violation. Screenshots go to
tests/browser/screenshots/."""

from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.browser.test_match_approval import sign_in
from tests.factories import CoordinatorFactory, UserFactory
from tests.impact.support import build_ledger, unit_costs  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).parent / "screenshots"
WIDTHS = {1366: 900, 390: 844}
Q3 = "from=2026-07-01&to=2026-09-30"


def check(page, name: str) -> None:
    """At both widths: nothing overflows sideways, axe is clean, and a screenshot is kept."""
    SCREENSHOTS.mkdir(exist_ok=True)
    for width, height in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_load_state("networkidle")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{name} at {width} px is {overflow} px too wide"
        results = Axe().run(page)
        assert results.violations_count == 0, results.generate_report()
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)


@pytest.mark.usefixtures("unit_costs")
def test_the_coalition_impact_page(page, live_server):
    build_ledger()
    coordinator = CoordinatorFactory()
    sign_in(page, live_server, coordinator.email)
    page.get_by_role("link", name="Impact", exact=True).click()
    page.goto(f"{live_server}/impact/?{Q3}")
    expect(page.get_by_text("supplies redistributed worth about $5,775")).to_be_visible()
    assert page.locator("svg.pygal-chart").count() == 3
    expect(page.get_by_role("table", name="By borough")).to_be_visible()
    page.get_by_label("Wording").select_option("1")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("rowheader", name="Medical supplies").first).to_be_visible()
    page.goto(f"{live_server}/impact/?{Q3}")
    check(page, "impact-coalition")


def test_the_organization_impact_page(page, live_server):
    ledger = build_ledger()
    member = UserFactory(organization=ledger.bushwick)
    sign_in(page, live_server, member.email)
    page.get_by_role("link", name="Our impact").click()
    page.goto(f"{live_server}/impact/organization?{Q3}")
    expect(page.get_by_role("heading", name="Shared impact: Bushwick Outreach")).to_be_visible()
    expect(page.get_by_role("table", name="The whole coalition in this period")).to_be_visible()
    check(page, "impact-organization")
