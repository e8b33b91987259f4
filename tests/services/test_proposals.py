"""Matching in the platform: per-event proposals, reservations, and the global re-solve."""

from datetime import date

import pytest
import sqlalchemy as sa

from coalition.extensions import db
from coalition.models.events import OutboxEvent
from coalition.models.listings import ListingStatus, Urgency
from coalition.models.matches import Match, MatchSource, MatchState
from coalition.services import proposals
from tests.factories import ListingFactory, OrganizationFactory, RequestFactory

TODAY = date(2026, 11, 26)

pytestmark = pytest.mark.usefixtures("app")


def refreshed(*rows):
    for row in rows:
        db.session.refresh(row)


def test_a_new_request_gets_the_best_offer_and_both_sides_hold_stock():
    near = ListingFactory(quantity=50, organization=OrganizationFactory(lat=40.70, lon=-73.93))
    far = ListingFactory(quantity=50, organization=OrganizationFactory(lat=40.84, lon=-73.93))
    request = RequestFactory(quantity=30, organization=OrganizationFactory(lat=40.69, lon=-73.94))
    (match,) = proposals.propose_for_listing(db.session, request.id, TODAY)
    db.session.commit()
    assert (match.offer_id, match.request_id, match.quantity) == (near.id, request.id, 30)
    assert match.state == MatchState.PROPOSED and match.source == MatchSource.GREEDY
    refreshed(near, far, request)
    assert (near.reserved, near.available, near.status) == (30, 20, ListingStatus.PARTLY_MATCHED)
    assert (request.reserved, request.status) == (30, ListingStatus.MATCHED)
    assert far.reserved == 0
    assert request.seen_version == request.version


def test_the_explanation_names_urgency_distance_expiry_and_alternatives():
    ListingFactory(quantity=10, expires_on=date(2027, 1, 10))
    ListingFactory(quantity=10, organization=OrganizationFactory(lat=40.75, lon=-73.95))
    request = RequestFactory(
        quantity=10,
        urgency=Urgency.CRITICAL,
        organization=OrganizationFactory(lat=40.69, lon=-73.94),
    )
    (match,) = proposals.propose_for_listing(db.session, request.id, TODAY)
    explanation = match.explanation
    assert explanation["urgency"] == "critical"
    assert explanation["days_to_expiry"] == 45
    assert explanation["factors"]["E"] == 1.5
    assert explanation["distance_km"] > 0
    assert explanation["alternatives"], "the other offer is an alternative passed over"


def test_proposals_record_match_proposed_in_the_outbox():
    ListingFactory(quantity=10)
    request = RequestFactory(quantity=5, organization=OrganizationFactory(lat=40.69, lon=-73.94))
    (match,) = proposals.propose_for_listing(db.session, request.id, TODAY)
    event = db.session.scalar(sa.select(OutboxEvent).where(OutboxEvent.type == "match.proposed"))
    assert event.payload["data"]["id"] == match.id


def test_same_organization_and_other_categories_are_never_paired():
    org = OrganizationFactory()
    ListingFactory(organization=org)
    request = RequestFactory(organization=org)
    assert proposals.propose_for_listing(db.session, request.id, TODAY) == []


def test_a_listing_is_not_paired_twice_with_the_same_counterpart():
    offer = ListingFactory(quantity=100)
    request = RequestFactory(quantity=10, organization=OrganizationFactory(lat=40.69, lon=-73.94))
    assert len(proposals.propose_for_listing(db.session, request.id, TODAY)) == 1
    assert proposals.propose_for_listing(db.session, offer.id, TODAY) == []


def test_stock_taken_by_another_worker_meanwhile_is_never_over_allocated():
    offer = ListingFactory(quantity=20)
    request = RequestFactory(quantity=20, organization=OrganizationFactory(lat=40.69, lon=-73.94))
    offer.reserved = 15  # another worker held 15 after we read the snapshot
    db.session.commit()
    (match,) = proposals.propose_for_listing(db.session, request.id, TODAY)
    refreshed(offer)
    assert match.quantity == 5
    assert offer.reserved == 20 and offer.available == 0


def test_resolve_replaces_greedy_proposals_only_when_clearly_better():
    # Greedy, request by request, gives the shared offer to the first request it sees.
    shared = ListingFactory(quantity=10, organization=OrganizationFactory(lat=40.70, lon=-73.93))
    low = RequestFactory(
        quantity=10, urgency=Urgency.LOW, organization=OrganizationFactory(lat=40.70, lon=-73.94)
    )
    proposals.propose_for_listing(db.session, low.id, TODAY)
    critical = RequestFactory(
        quantity=10,
        urgency=Urgency.CRITICAL,
        organization=OrganizationFactory(lat=40.71, lon=-73.93),
    )
    assert proposals.propose_for_listing(db.session, critical.id, TODAY) == []
    result = proposals.resolve(db.session, margin=0.01, today=TODAY)
    db.session.commit()
    assert result.replaced and result.optimal_value > result.current_value * 4
    live = db.session.scalars(sa.select(Match).where(Match.state == MatchState.PROPOSED)).all()
    assert [(m.offer_id, m.request_id, m.source) for m in live] == [
        (shared.id, critical.id, MatchSource.RESOLVE)
    ]
    refreshed(shared, low, critical)
    assert (shared.reserved, low.reserved, critical.reserved) == (10, 0, 10)
    again = proposals.resolve(db.session, margin=0.01, today=TODAY)
    assert not again.replaced


def test_resolve_never_touches_approved_matches():
    offer = ListingFactory(quantity=10)
    low = RequestFactory(
        quantity=10, urgency=Urgency.LOW, organization=OrganizationFactory(lat=40.69, lon=-73.94)
    )
    (match,) = proposals.propose_for_listing(db.session, low.id, TODAY)
    match.state = MatchState.APPROVED
    RequestFactory(
        quantity=10,
        urgency=Urgency.CRITICAL,
        organization=OrganizationFactory(lat=40.70, lon=-73.94),
    )
    result = proposals.resolve(db.session, margin=0.0, today=TODAY)
    db.session.commit()
    refreshed(match, offer)
    assert match.state == MatchState.APPROVED
    assert offer.reserved == 10
    assert result.created == 0


def test_resolve_command_shows_progress_and_records_the_run(app):
    ListingFactory(quantity=10)
    RequestFactory(quantity=10, organization=OrganizationFactory(lat=40.69, lon=-73.94))
    result = app.test_cli_runner().invoke(args=["matching", "resolve"])
    assert result.exit_code == 0, result.output
    assert "re-solving" in result.output
    assert "1 offers × 1 requests" in result.output
    assert "1 created" in result.output
    status = app.test_cli_runner().invoke(args=["matching", "status"])
    assert "done" in status.output
