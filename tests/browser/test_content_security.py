"""In a real browser: the Content-Security-Policy refuses nothing our pages need."""

import pytest

from coalition.extensions import db
from coalition.models.organizations import Organization, OrgStatus
from tests.browser.test_accounts_journey import sign_in
from tests.factories import CoordinatorFactory, ListingFactory, OrganizationFactory

pytestmark = pytest.mark.browser

# Collects every CSP violation the page reports (Playwright's init scripts are not subject to it).
WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""
PAGES = [
    "/",
    "/coordinator/organizations",
    "/coordinator/audit",
    "/listings",
    "/matches/queue",
    "/digests/sends",
    "/digests/settings",
    "/digests/preview",
    "/impact/",
    "/reports/impact.html",
    "/login",
]


def test_pages_load_without_a_single_policy_violation(page, live_server):
    ListingFactory(organization=OrganizationFactory(name="Bronx Works"))
    CoordinatorFactory(email="coord@example.org")
    page.add_init_script(WATCH)
    sign_in(page, live_server, "coord@example.org")
    for path in PAGES:
        assert page.goto(live_server + path).ok, path
        page.wait_for_load_state("load")
        assert page.evaluate("window.__violations") == [], path


def test_confirm_prompts_ask_from_the_static_script_and_cannot_be_escaped(page, live_server):
    hostile = OrganizationFactory(name="Evil'); window.__pwned = 1; ('")
    CoordinatorFactory(email="coord@example.org")
    page.add_init_script(WATCH)
    sign_in(page, live_server, "coord@example.org")
    page.goto(f"{live_server}/coordinator/organizations")
    questions, posts = [], []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)

    page.once("dialog", lambda d: (questions.append(d.message), d.dismiss()))
    page.get_by_role("button", name="Suspend").click()

    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Suspend").click()
    page.wait_for_load_state("load")
    db.session.expire_all()
    assert db.session.get(Organization, hostile.id).status == OrgStatus.SUSPENDED
    assert questions == [f"Suspend {hostile.name}? Its people will be signed out."]
    assert len(posts) == 1  # the dismissed question sent nothing
    assert page.evaluate("window.__pwned") is None
    assert page.evaluate("window.__violations") == []
