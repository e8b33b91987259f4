"""The three journeys in a real browser, at 1366 px and 390 px, in English and Spanish.

Each page is checked as a person sees it: the waiting item, the plain explanation, the
timeline's next step, no sideways scroll, and axe-core with no serious or critical
violation. Screenshots go to tests/browser/screenshots/ for a reviewer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from coalition.extensions import db
from coalition.models.matches import MatchState
from coalition.services.digests import unsubscribe_token
from tests.digests.conftest import subscribe
from tests.factories import PASSWORD
from tests.matches_support import make_pair

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).parent / "screenshots"
WIDTHS = {"wide": 1366, "phone": 390}
IMPACTS = ("critical", "serious", "moderate", "minor")
SEEN = {
    "en": {
        "waiting": "Waiting for us",
        "next": "Accept it if you can give or take it, or decline.",
        "explain": "This lot expires in 45 days, so moving it now avoids waste.",
        "queue": "Proposals to review",
        "digest": "My digest",
    },
    "es": {
        "waiting": "Pendiente de nosotros",
        "next": "Acéptela si pueden darlo o recibirlo, o recházela.",
        "explain": "Este lote vence en 45 días, así que moverlo ahora evita desperdicio.",
        "queue": "Propuestas por revisar",
        "digest": "Mi resumen",
    },
}
AXE = Axe()


@pytest.fixture(params=[(w, lang) for w in WIDTHS for lang in ("en", "es")], ids=str)
def person_page(request: Any, browser: Any) -> Any:
    """A page at one width, in one language (the browser's Accept-Language)."""
    width, lang = request.param
    context = browser.new_context(
        viewport={"width": WIDTHS[width], "height": 900}, locale=lang, bypass_csp=True
    )
    page = context.new_page()
    page.journey = (width, lang)
    yield page
    context.close()


def look(page: Any, name: str) -> None:
    """What every page must pass: no sideways scroll, axe clean; then a screenshot."""
    page.wait_for_load_state("load")
    width, lang = page.journey
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), name
    assert page.locator("html").get_attribute("lang") == lang
    violations = AXE.run(page).response["violations"]
    serious = [(v["id"], v["impact"]) for v in violations if v["impact"] in ("serious", "critical")]
    assert serious == [], f"{name}: {serious}"
    counts = {impact: sum(v["impact"] == impact for v in violations) for impact in IMPACTS}
    print(f"axe {name}-{lang}-{width}: {counts}")  # `pytest -s tests/browser` lists every page
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{lang}-{width}.png"), full_page=True)


def sign_in(page: Any, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    look(page, "login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()


def test_a_member_sees_what_waits_and_why(person_page: Any, live_server: str) -> None:
    page, (_, lang) = person_page, person_page.journey
    pair = make_pair()
    pair.match.state = MatchState.APPROVED
    db.session.commit()
    sign_in(page, live_server, pair.receiver_member.email)
    expect(page.get_by_role("heading", name=SEEN[lang]["waiting"]).first).to_be_visible()
    item = page.locator(f"#home-match-{pair.match.id}")
    expect(item.get_by_text(SEEN[lang]["next"])).to_be_visible()
    look(page, "member-home")
    page.goto(f"{live_server}/matches/{pair.match.id}")
    expect(page.get_by_text(SEEN[lang]["explain"])).to_be_visible()
    expect(page.locator("ol.timeline li[aria-current=step]")).to_be_visible()
    expect(page.locator(".next-step").get_by_text(SEEN[lang]["next"])).to_be_visible()
    look(page, "match")
    for path, name in (("/listings", "listings"), ("/matches", "matches")):
        page.goto(live_server + path)
        look(page, name)
    page.goto(f"{live_server}/listings/new?direction=offer")
    look(page, "listing-form")


def test_a_coordinator_sees_the_queue_in_plain_words(person_page: Any, live_server: str) -> None:
    page, (_, lang) = person_page, person_page.journey
    pair = make_pair()
    sign_in(page, live_server, pair.coordinator.email)
    expect(page.get_by_role("heading", name=SEEN[lang]["queue"])).to_be_visible()
    look(page, "coordinator-home")
    page.goto(f"{live_server}/matches/queue")
    row = page.locator(f"#match-{pair.match.id}")
    expect(row.get_by_text(SEEN[lang]["explain"])).to_be_visible()
    look(page, "queue")


def test_a_digest_reader_changes_settings_and_unsubscribes(
    person_page: Any, live_server: str
) -> None:
    page = person_page
    pair = make_pair()
    subscription = subscribe(pair.giver_member)
    db.session.commit()
    sign_in(page, live_server, pair.giver_member.email)
    page.goto(f"{live_server}/digests/settings")
    look(page, "digest-settings")
    page.context.clear_cookies()
    page.goto(f"{live_server}/digests/unsubscribe/{unsubscribe_token(subscription.id)}")
    look(page, "unsubscribe")
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state("load")
    db.session.expire_all()
    assert not db.session.get(type(subscription), subscription.id).active
    look(page, "unsubscribed")
