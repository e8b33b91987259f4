"""Calm proposal emails: due ten minutes later, folded per person, one an hour, none for a
proposal that is gone by then; the in-app notification stays immediate."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from coalition.events.envelope import from_envelope
from coalition.extensions import db
from coalition.models.base import utcnow
from coalition.models.events import OutboxEvent
from coalition.models.matches import MatchState
from coalition.models.notifications import DeliveryState, EmailDelivery, Notification
from coalition.notify.notifications import notify_match_event
from tests.factories import RequestFactory
from tests.matches_support import make_pair, propose
from worker.jobs import deliver_due

pytestmark = pytest.mark.usefixtures("app")

LATER = timedelta(seconds=601)


@pytest.fixture(autouse=True)
def calm_defaults(app, monkeypatch):
    """The production defaults (the other tests send proposal emails at once)."""
    monkeypatch.setitem(app.config, "PROPOSAL_EMAIL_DELAY", 600)
    monkeypatch.setitem(app.config, "PROPOSAL_EMAIL_INTERVAL", 3600)


def handle_all_proposed() -> None:
    """Run the notifications handler on every `match.proposed` event (once each)."""
    rows = db.session.scalars(
        sa.select(OutboxEvent.payload).where(OutboxEvent.type == "match.proposed")
    ).all()
    for payload in rows:
        notify_match_event(db.session, from_envelope(payload))
    db.session.commit()


def sent_to(address: str) -> list[EmailDelivery]:
    return list(
        db.session.scalars(
            sa.select(EmailDelivery).where(
                EmailDelivery.to_address == address, EmailDelivery.state == DeliveryState.SENT
            )
        )
    )


def test_a_proposal_email_waits_while_the_bell_rings_at_once():
    pair = make_pair()
    start = utcnow()
    handle_all_proposed()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 3
    assert deliver_due(db.session, start) == 0
    assert not sent_to(pair.receiver_member.email)
    assert deliver_due(db.session, start + LATER) == 3
    (email,) = sent_to(pair.receiver_member.email)
    assert email.subject.startswith("Coalition: Possible match")  # one proposal goes as it was


def test_a_proposal_gone_before_its_email_is_due_sends_nothing():
    pair = make_pair()
    start = utcnow()
    handle_all_proposed()
    pair.match.state = MatchState.CANCELLED  # superseded by a re-solve minutes later
    db.session.commit()
    assert deliver_due(db.session, start + LATER) == 0
    states = set(db.session.scalars(sa.select(EmailDelivery.state)))
    assert states == {DeliveryState.DROPPED}


def test_an_approved_proposal_sends_only_its_approval_email():
    pair = make_pair()
    start = utcnow()
    handle_all_proposed()
    pair.match.state = MatchState.APPROVED
    db.session.commit()
    deliver_due(db.session, start + LATER)
    assert not sent_to(pair.receiver_member.email)


def test_proposals_are_folded_into_one_email_per_person_and_spaced_an_hour():
    pair = make_pair(offered=120, requested=10)
    for _ in range(2):
        more = RequestFactory(organization=pair.receiver, quantity=10, max_distance_km=30)
        propose(pair.offer, more, 10)
    db.session.commit()
    start = utcnow()
    handle_all_proposed()
    assert deliver_due(db.session, start + LATER) == 3  # one each for three people
    (receiver,) = sent_to(pair.receiver_member.email)
    assert receiver.subject == "Coalition: 3 new proposals for your organization"
    (coordinator,) = sent_to(pair.coordinator.email)
    assert coordinator.subject == "Coalition: 3 new proposals to review"
    assert "Possible match" in receiver.message  # each proposal's own line, in its wording

    # another proposal ten minutes later waits for the hour to pass, then goes alone
    late = RequestFactory(organization=pair.receiver, quantity=10, max_distance_km=30)
    propose(pair.offer, late, 10)
    db.session.commit()
    handle_all_proposed()
    second = start + LATER + timedelta(minutes=20)
    assert deliver_due(db.session, second) == 0
    assert len(sent_to(pair.receiver_member.email)) == 1
    assert deliver_due(db.session, start + LATER + timedelta(seconds=3601)) == 3
    assert len(sent_to(pair.receiver_member.email)) == 2
    dropped = db.session.scalar(
        sa.select(sa.func.count()).where(EmailDelivery.state == DeliveryState.DROPPED)
    )
    assert dropped == 6  # two of three per person, folded into the first
