"""Proactive proposals: the forecast posts a request before an organization runs out and an
offer of stock that would expire unused; never twice, withdrawn when the risk goes, never
for an ineligible receiver, dismissable; shown on the home page and the coordinators' page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from coalition.extensions import db
from coalition.models.events import OutboxEvent
from coalition.models.inventory import StockSuggestion, SuggestionState
from coalition.models.listings import Listing, ListingStatus
from coalition.services import forecast, inventory, proactive
from tests.factories import CoordinatorFactory, OrganizationFactory, UserFactory, category
from worker.handlers import HANDLERS
from worker.processing import Outcome, RetryPolicy, process

NOW = datetime.now(UTC)
NALOXONE = "naloxone-nasal-4mg"


def count(org, quantity, days_ago=0.0, **extra):
    data = inventory.load_entry({"category": NALOXONE, "quantity": quantity, **extra})
    inventory.record(db.session, None, org, data, "test", now=NOW - timedelta(days=days_ago))
    db.session.commit()


def run(org):
    """What the worker does after a count: forecast, then suggest."""
    cid = category(NALOXONE).id
    forecast.refresh(db.session, org.id, cid, NOW)
    made = proactive.evaluate(db.session, org.id, cid, NOW)
    db.session.commit()
    return made


def running_low():
    org = OrganizationFactory()
    count(org, 200, days_ago=10)
    count(org, 90)  # 11 a day: about 8 days left, under the 14-day lead time
    return org


def test_running_low_posts_a_request_marked_with_its_figures(app):
    org = running_low()
    made = run(org)["request"]
    listing = db.session.get(Listing, made.listing_id)
    assert (listing.direction.value, listing.status, listing.organization_id) == (
        "request",
        ListingStatus.OPEN,
        org.id,
    )
    assert listing.quantity == 218  # enough for twice the lead time: 11 x 28 - 90
    assert listing.urgency.value == "normal" and listing.need_by >= NOW.date()
    assert made.figures["days_left"] == pytest.approx(8.2, abs=0.1)
    assert made.figures["lead_days"] == 14 and made.figures["on_hand"] == 90
    posted = db.session.scalars(
        sa.select(OutboxEvent.type).where(OutboxEvent.type == "request.posted")
    ).all()
    assert posted == ["request.posted"]  # it goes through matching like any request


def test_the_next_run_does_not_post_it_again(app):
    org = running_low()
    first = run(org)["request"]
    again = run(org)["request"]
    assert again.id == first.id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StockSuggestion)) == 1


def test_a_count_that_removes_the_risk_withdraws_it(app):
    org = running_low()
    made = run(org)["request"]
    count(org, 400, entry_type="delivery")
    assert run(org)["request"] is None
    db.session.refresh(made)
    assert made.state == SuggestionState.WITHDRAWN
    assert db.session.get(Listing, made.listing_id).status == ListingStatus.WITHDRAWN


def test_a_longer_lead_time_or_turning_suggestions_off_changes_it(app):
    org = OrganizationFactory()
    count(org, 400, days_ago=10)
    count(org, 300)  # 10 a day, 30 days left
    assert run(org)["request"] is None
    proactive.save_setting(db.session, org.id, category(NALOXONE).id, 45, suggest=False)
    assert run(org)["request"] is None
    proactive.save_setting(db.session, org.id, category(NALOXONE).id, 45, suggest=True)
    assert run(org)["request"].figures["lead_days"] == 45


def test_never_for_a_receiver_without_the_credential_the_category_needs(app):
    naloxone = category(NALOXONE)
    naloxone.requires_credential = "naloxone-standing-order"
    db.session.commit()
    try:
        assert run(running_low())["request"] is None
    finally:
        naloxone.requires_credential = ""
        db.session.commit()


def test_a_dismissed_suggestion_is_withdrawn_and_not_posted_again(login):
    member = UserFactory()
    org = member.organization
    count(org, 200, days_ago=10)
    count(org, 90)
    made = run(org)["request"]
    answer = login(member).post(f"/stock/suggestions/{made.id}/dismiss")
    assert answer.status_code == 302
    db.session.refresh(made)
    assert made.state == SuggestionState.DISMISSED
    assert db.session.get(Listing, made.listing_id).status == ListingStatus.WITHDRAWN
    assert run(org)["request"] is None
    assert login(UserFactory()).post(f"/stock/suggestions/{made.id}/dismiss").status_code == 403


def test_a_lot_that_would_expire_unused_is_offered(app):
    org = OrganizationFactory()
    expires = (NOW + timedelta(days=20)).date()
    count(org, 500, days_ago=10, lot="K", expires_on=expires.isoformat())
    count(org, 400, lot="K", expires_on=expires.isoformat())  # 10 a day: 200 used by then
    made = run(org)["offer"]
    listing = db.session.get(Listing, made.listing_id)
    assert listing.direction.value == "offer" and listing.expires_on == expires
    assert listing.quantity == pytest.approx(140, abs=2)  # even at 13 a day (the band's top)


def test_the_worker_suggests_after_a_count(app):
    org = OrganizationFactory()
    count(org, 200, days_ago=10)
    count(org, 90)
    body = db.session.scalars(
        sa.select(OutboxEvent.payload).where(OutboxEvent.type == "stock.counted")
    ).all()[-1]
    assert process(db.session, "forecast", body, HANDLERS, RetryPolicy()).outcome == Outcome.DONE
    assert db.session.scalar(sa.select(StockSuggestion)).organization_id == org.id


def test_members_see_it_at_home_and_coordinators_on_the_risk_page(login):
    member = UserFactory()
    count(member.organization, 200, days_ago=10)
    count(member.organization, 90)
    made = run(member.organization)["request"]
    html = login(member).get("/").get_data(as_text=True)
    assert "the forecast suggests asking for 218" in html and "about 8 days left" in html
    detail = login(member).get(f"/listings/{made.listing_id}").get_data(as_text=True)
    assert 'id="suggested"' in detail
    assert login(member).get("/stock/risk").status_code == 403
    risk = login(CoordinatorFactory()).get("/stock/risk").get_data(as_text=True)
    assert f"risk-{member.organization.slug}-{NALOXONE}" in risk
    assert f"Request #{made.listing_id}" in risk


def test_lead_time_is_set_on_the_stock_page(login):
    member = UserFactory()
    count(member.organization, 50)
    client = login(member)
    assert "Lead time (days)" in client.get("/stock/").get_data(as_text=True)
    client.post("/stock/settings", data={"category": NALOXONE, "lead_days": "21", "suggest": "on"})
    rule = proactive.setting(db.session, member.organization_id, category(NALOXONE).id)
    assert (rule.lead_days, rule.suggest) == (21, True)
    bad = client.post("/stock/settings", data={"category": NALOXONE, "lead_days": "0"})
    assert bad.status_code == 303
    assert (
        proactive.setting(db.session, member.organization_id, category(NALOXONE).id).lead_days == 21
    )
    unknown = client.post("/stock/settings", data={"category": "nope", "lead_days": "7"})
    assert unknown.status_code == 303
    assert "Choose one of the categories." in client.get("/stock/").get_data(as_text=True)
    assert login(CoordinatorFactory()).post("/stock/settings", data={}).status_code == 403


def test_no_forecast_no_suggestion(app):
    org = OrganizationFactory()
    count(org, 5)
    assert run(org) == {"request": None, "offer": None}
