"""The re-solve's bulk writes: all or nothing, checked like the one-by-one path."""

from datetime import date

import pytest
import sqlalchemy as sa

from coalition.extensions import db
from coalition.models.events import OutboxEvent
from coalition.models.listings import ListingStatus, Urgency
from coalition.models.matches import Match, MatchSource, MatchState
from coalition.services import proposals
from coalition.services.resolve_apply import NewProposal, apply_in_bulk
from tests.factories import ListingFactory, OrganizationFactory, RequestFactory

TODAY = date(2026, 11, 26)

pytestmark = pytest.mark.usefixtures("app")


def _world():
    """A greedy proposal of a shared offer to a low-urgency request; a critical one waits."""
    shared = ListingFactory(quantity=10, organization=OrganizationFactory(lat=40.70, lon=-73.93))
    low = RequestFactory(
        quantity=10, urgency=Urgency.LOW, organization=OrganizationFactory(lat=40.70, lon=-73.94)
    )
    (greedy,) = proposals.propose_for_listing(db.session, low.id, TODAY)
    critical = RequestFactory(
        quantity=10,
        urgency=Urgency.CRITICAL,
        organization=OrganizationFactory(lat=40.71, lon=-73.93),
    )
    db.session.commit()
    return shared, low, critical, greedy


def _counts(*listings):
    for listing in listings:
        db.session.refresh(listing)
    return [(x.reserved, x.status) for x in listings]


def _new(offer, request, quantity=10):
    return NewProposal(offer.id, request.id, quantity, 1.0, {"distance_km": 1.0})


def test_bulk_swap_moves_stock_statuses_and_events_like_one_by_one():
    shared, low, critical, greedy = _world()
    events = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxEvent))
    assert apply_in_bulk(db.session, [greedy], [_new(shared, critical)], "matching") == (1, 1)
    db.session.commit()
    assert _counts(shared, low, critical) == [
        (10, ListingStatus.MATCHED),
        (0, ListingStatus.OPEN),
        (10, ListingStatus.MATCHED),
    ]
    db.session.refresh(greedy)
    assert greedy.state == MatchState.CANCELLED
    (made,) = db.session.scalars(sa.select(Match).where(Match.state == MatchState.PROPOSED))
    assert (made.request_id, made.source, made.explanation["quantity"]) == (
        critical.id, MatchSource.RESOLVE, 10,
    )  # fmt: skip
    types = db.session.scalars(sa.select(OutboxEvent.type).order_by(OutboxEvent.id)).all()
    assert len(types) == events + 2 and types[-2:] == ["match.cancelled", "match.proposed"]


def test_an_approval_meanwhile_rolls_the_whole_bulk_back():
    shared, low, critical, greedy = _world()
    greedy.state = MatchState.APPROVED
    db.session.commit()
    assert apply_in_bulk(db.session, [greedy], [_new(shared, critical)], "matching") is None
    db.session.commit()
    assert _counts(shared, critical) == [(10, ListingStatus.MATCHED), (0, ListingStatus.OPEN)]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Match)) == 1


def test_stock_taken_meanwhile_rolls_the_whole_bulk_back_and_never_over_allocates():
    shared, low, critical, greedy = _world()
    other = RequestFactory(quantity=5, organization=OrganizationFactory(lat=40.72, lon=-73.93))
    db.session.commit()
    # the greedy proposal still holds all 10: holding 5 more for `other` must fail as a whole
    assert apply_in_bulk(db.session, [], [_new(shared, other, 5)], "matching") is None
    db.session.commit()
    assert _counts(shared, other) == [(10, ListingStatus.MATCHED), (0, ListingStatus.OPEN)]


def test_resolve_falls_back_to_one_by_one_after_a_conflict(monkeypatch):
    shared, low, critical, greedy = _world()
    monkeypatch.setattr(proposals, "apply_in_bulk", lambda *args: None)
    result = proposals.resolve(db.session, margin=0.01, today=TODAY)
    db.session.commit()
    assert (result.cancelled, result.created) == (1, 1)
    assert _counts(shared, low, critical) == [
        (10, ListingStatus.MATCHED),
        (0, ListingStatus.OPEN),
        (10, ListingStatus.MATCHED),
    ]
