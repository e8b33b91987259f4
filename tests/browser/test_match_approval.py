"""In a real browser: a coordinator approves a proposal from the queue, a member accepts."""

import pytest
from playwright.sync_api import expect

from coalition.extensions import db
from coalition.models.matches import MatchState
from tests.factories import PASSWORD
from tests.matches_support import make_pair

pytestmark = pytest.mark.browser


def sign_in(page, base, email):
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_a_coordinator_approves_from_the_queue_and_a_member_accepts(page, live_server):
    pair = make_pair()
    match_id = pair.match.id

    sign_in(page, live_server, pair.coordinator.email)
    page.get_by_role("link", name="Match queue").click()
    row = page.locator(f"#match-{match_id}")
    expect(row.get_by_text("Harlem Harm Reduction")).to_be_visible()
    expect(row.get_by_text("This lot expires in 45 days")).to_be_visible()
    row.get_by_role("button", name=f"Approve #{match_id}").click()
    expect(page.get_by_text("Waiting for both organizations to accept.")).to_be_visible()
    expect(page.get_by_text("No proposals are waiting.")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, live_server, pair.receiver_member.email)
    expect(page.get_by_role("link", name="Notifications, 0 unread")).to_be_visible()
    page.get_by_role("link", name="Matches", exact=True).click()
    waiting = page.locator(f"#match-{match_id}")
    expect(waiting.get_by_text("Harlem Harm Reduction")).to_be_visible()
    waiting.get_by_role("button", name="Accept").click()
    expect(page.get_by_text("Waiting for the giving organization to accept.").first).to_be_visible()

    db.session.expire_all()
    pair.refresh()
    assert pair.match.state == MatchState.APPROVED
    assert pair.match.request_accepted_at is not None and pair.match.offer_accepted_at is None
