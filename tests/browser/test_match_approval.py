"""In a real browser: a coordinator approves a proposal from the queue, a member accepts."""

import pytest

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
    assert row.get_by_text("Harlem Harm Reduction").is_visible()
    assert row.get_by_text("This lot expires in 45 days").is_visible()
    row.get_by_role("button", name=f"Approve #{match_id}").click()
    assert page.get_by_text("Waiting for both organizations to accept.").is_visible()
    assert page.get_by_text("No proposals are waiting.").is_visible()
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, live_server, pair.receiver_member.email)
    assert page.get_by_role("link", name="Notifications, 0 unread").is_visible()
    page.get_by_role("link", name="Matches", exact=True).click()
    waiting = page.locator(f"#match-{match_id}")
    assert waiting.get_by_text("Harlem Harm Reduction").is_visible()
    waiting.get_by_role("button", name="Accept").click()
    assert page.get_by_text("Waiting for the giving organization to accept.").first.is_visible()

    db.session.expire_all()
    pair.refresh()
    assert pair.match.state == MatchState.APPROVED
    assert pair.match.request_accepted_at is not None and pair.match.offer_accepted_at is None
