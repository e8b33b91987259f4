"""The match lifecycle service: transitions, quantities, events, audit, holds, auto-approval."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from coalition.extensions import db
from coalition.models.audit import AuditEntry
from coalition.models.base import utcnow
from coalition.models.catalog import Kind
from coalition.models.events import OutboxEvent
from coalition.models.listings import Urgency
from coalition.models.matches import Match, MatchState
from coalition.models.organizations import OrgStatus
from coalition.models.users import User
from coalition.services import match_lifecycle as service
from coalition.services.errors import ServiceError
from tests.conftest import count
from tests.factories import ListingFactory, OrganizationFactory, RequestFactory, category
from tests.matches_support import events_of, make_pair, outsider, propose

pytestmark = pytest.mark.usefixtures("app")


def act(pair, who, action, reason=None):
    actor = {
        "coordinator": pair.coordinator,
        "giver": pair.giver_member,
        "receiver": pair.receiver_member,
    }.get(who, who)
    service.perform(db.session, actor, pair.match, action, reason)
    db.session.commit()


def test_the_whole_path_moves_quantities_and_records_events_and_audit():
    pair = make_pair(offered=120, requested=40)
    assert pair.counts() == ((80, 40, 0), (0, 40, 0))

    act(pair, "coordinator", "approve")
    assert pair.match.state == MatchState.APPROVED and pair.match.names_shared
    assert pair.match.decided_by_id == pair.coordinator.id
    assert pair.match.hold_expires_at > utcnow() + timedelta(hours=71)
    assert pair.counts() == ((80, 40, 0), (0, 40, 0))

    act(pair, "giver", "accept")
    assert pair.match.state == MatchState.APPROVED and pair.match.offer_accepted_at
    act(pair, "receiver", "accept")
    assert pair.match.state == MatchState.ACCEPTED
    act(pair, "giver", "handoff")
    assert pair.match.state == MatchState.HANDED_OFF
    assert pair.counts() == ((80, 40, 0), (0, 40, 0))

    act(pair, "receiver", "receive")
    assert pair.match.state == MatchState.FULFILLED and pair.match.received_at
    assert pair.counts() == ((80, 0, 40), (0, 0, 40))

    assert [e["side"] for e in events_of("match.accepted")] == ["offer", "request"]
    assert [e["complete"] for e in events_of("match.accepted")] == [False, True]
    for name in ("approved", "handed_off", "fulfilled"):
        assert [e["id"] for e in events_of(f"match.{name}")] == [pair.match.id]
    actions = db.session.scalars(
        sa.select(AuditEntry.action)
        .where(AuditEntry.target_type == "matches")
        .order_by(AuditEntry.id)
    ).all()
    assert actions == [
        "match.approved",
        "match.accepted",
        "match.accepted",
        "match.handed_off",
        "match.fulfilled",
    ]


# ---------------------------------------------------------------- who may do what, when

WHO = {
    "approve": {"coordinator"},
    "reject": {"coordinator"},
    "accept": {"giver", "receiver"},
    "decline": {"giver", "receiver"},
    "handoff": {"giver"},
    "receive": {"receiver"},
    "cancel": {"coordinator", "giver", "receiver"},
}
FROM = {
    "approve": {"proposed"},
    "reject": {"proposed"},
    "accept": {"approved"},
    "decline": {"approved"},
    "handoff": {"accepted"},
    "receive": {"handed_off"},
    "cancel": {"proposed", "approved", "accepted", "handed_off"},
}
# how to bring a fresh proposal into each state
PATHS = {
    "proposed": [],
    "approved": [("coordinator", "approve")],
    "accepted": [("coordinator", "approve"), ("giver", "accept"), ("receiver", "accept")],
    "handed_off": [
        ("coordinator", "approve"),
        ("giver", "accept"),
        ("receiver", "accept"),
        ("giver", "handoff"),
    ],
    "fulfilled": [
        ("coordinator", "approve"),
        ("giver", "accept"),
        ("receiver", "accept"),
        ("giver", "handoff"),
        ("receiver", "receive"),
    ],
    "rejected": [("coordinator", "reject")],
    "declined": [("coordinator", "approve"), ("receiver", "decline")],
}
CASES = [
    (action, who, state)
    for action in WHO
    for who in ("coordinator", "giver", "receiver", "outsider")
    for state in PATHS
]


def expected(action, who, state):
    if who not in WHO[action]:
        return 403
    if state not in FROM[action]:
        return 409
    return 200


@pytest.mark.parametrize(("action", "who", "state"), CASES)
def test_authorization_and_states_for_every_transition(action, who, state):
    pair = make_pair()
    for step_who, step in PATHS[state]:
        act(pair, step_who, step, "because")
    assert pair.match.state == MatchState(state)
    before = (pair.counts(), count(OutboxEvent), count(AuditEntry))
    actor = outsider() if who == "outsider" else who
    want = expected(action, who, state)
    if want == 200:
        act(pair, actor, action, "a reason")
        assert pair.match.state != MatchState(state) or action == "accept"
        return
    with pytest.raises(ServiceError) as raised:
        act(pair, actor, action, "a reason")
    db.session.rollback()
    assert raised.value.status == want
    pair.refresh()
    assert pair.match.state == MatchState(state)
    assert (pair.counts(), count(OutboxEvent), count(AuditEntry)) == before


def test_accepting_twice_for_the_same_side_is_a_conflict():
    pair = make_pair()
    act(pair, "coordinator", "approve")
    act(pair, "giver", "accept")
    with pytest.raises(ServiceError) as raised:
        act(pair, "giver", "accept")
    assert raised.value.status == 409
    assert "already accepted" in raised.value.message


def test_reject_needs_a_reason_and_writes_nothing_without_one():
    pair = make_pair()
    before = (count(OutboxEvent), count(AuditEntry))
    for reason in (None, "", "   "):
        with pytest.raises(ServiceError) as raised:
            act(pair, "coordinator", "reject", reason)
        db.session.rollback()
        assert (raised.value.status, raised.value.field) == (422, "reason")
    pair.refresh()
    assert pair.match.state == MatchState.PROPOSED
    assert (count(OutboxEvent), count(AuditEntry)) == before


# ---------------------------------------------------------------- releasing and re-matching


@pytest.mark.parametrize(
    "steps",
    [
        [("coordinator", "reject")],
        [("coordinator", "approve"), ("giver", "decline")],
        [("coordinator", "approve"), ("giver", "accept"), ("receiver", "cancel")],
        [("coordinator", "cancel")],
    ],
    ids=["rejected", "declined", "cancelled-by-org", "cancelled-by-coordinator"],
)
def test_closing_without_transfer_releases_stock_and_asks_for_matching_again(steps):
    pair = make_pair(offered=120, requested=40)
    versions = (pair.offer.version, pair.request.version)
    for who, action in steps:
        act(pair, who, action, "no longer needed")
    assert pair.counts() == ((120, 0, 0), (40, 0, 0))
    assert (pair.offer.version, pair.request.version) == (versions[0] + 1, versions[1] + 1)
    assert events_of("offer.updated") == [
        {"id": pair.offer.id, "version": versions[0] + 1, "reason": "released"}
    ]
    assert events_of("request.updated") == [
        {"id": pair.request.id, "version": versions[1] + 1, "reason": "released"}
    ]
    assert pair.match.closed_at is not None and pair.match.reason == "no longer needed"


def test_a_rejection_records_the_reason_in_the_event():
    pair = make_pair()
    act(pair, "coordinator", "reject", "  duplicate of #12 ")
    assert events_of("match.rejected")[0]["reason"] == "duplicate of #12"


# ---------------------------------------------------------------- two coordinators at once


def test_a_stale_second_decision_gets_a_conflict_and_changes_nothing(app):
    pair = make_pair()
    other = Session(db.engine)
    try:
        stale = other.get(Match, pair.match.id)
        stale_coordinator = other.merge(pair.coordinator)
        assert stale.state == MatchState.PROPOSED  # loaded before the first decision
        act(pair, "coordinator", "approve")
        with pytest.raises(ServiceError) as raised:
            service.reject(other, stale_coordinator, stale, "too late")
        other.rollback()
    finally:
        other.close()
    assert raised.value.status == 409
    assert "approved" in raised.value.message
    assert pair.counts() == ((80, 40, 0), (0, 40, 0))
    assert pair.match.state == MatchState.APPROVED
    assert events_of("match.rejected") == []


def test_two_coordinators_deciding_in_parallel_end_in_one_state(app):
    pair = make_pair()
    match_id, coordinator_id = pair.match.id, pair.coordinator.id
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def decide(action):
        with app.app_context(), Session(db.engine) as session:
            match, actor = session.get(Match, match_id), session.get(User, coordinator_id)
            barrier.wait()
            try:
                service.perform(session, actor, match, action, "not needed")
                session.commit()
                outcomes[action] = "ok"
            except ServiceError as exc:
                session.rollback()
                outcomes[action] = exc.status

    threads = [threading.Thread(target=decide, args=(a,)) for a in ("approve", "reject")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(map(str, outcomes.values())) == ["409", "ok"]
    pair.refresh()
    winner = "approve" if outcomes["approve"] == "ok" else "reject"
    assert pair.match.state == (MatchState.APPROVED if winner == "approve" else MatchState.REJECTED)
    reserved = 40 if winner == "approve" else 0
    assert (pair.offer.reserved, pair.request.reserved) == (reserved, reserved)
    assert len(events_of("match.approved")) + len(events_of("match.rejected")) == 1


# ---------------------------------------------------------------- holds


def test_holds_nobody_acted_on_expire_and_release(app):
    pair = make_pair()
    act(pair, "coordinator", "approve")
    assert service.expire_holds(db.session, utcnow()) == 0
    later = pair.match.hold_expires_at + timedelta(seconds=1)
    assert service.expire_holds(db.session, later) == 1
    db.session.commit()
    assert pair.match.state == MatchState.EXPIRED and pair.match.closed_by == "system"
    assert pair.counts() == ((120, 0, 0), (40, 0, 0))
    assert [e["id"] for e in events_of("match.expired")] == [pair.match.id]
    assert len(events_of("offer.updated")) == 1


def test_an_unreviewed_proposal_expires_after_the_hold_time(app):
    pair = make_pair()
    hours = app.config["MATCH_HOLD_HOURS"]
    assert service.expire_holds(db.session, utcnow() + timedelta(hours=hours - 1)) == 0
    assert service.expire_holds(db.session, utcnow() + timedelta(hours=hours, minutes=1)) == 1
    db.session.commit()
    assert pair.match.state == MatchState.EXPIRED


def test_accepted_matches_do_not_expire():
    pair = make_pair()
    for who, action in PATHS["accepted"]:
        act(pair, who, action)
    assert service.expire_holds(db.session, utcnow() + timedelta(days=30)) == 0
    assert pair.match.state == MatchState.ACCEPTED


# ---------------------------------------------------------------- auto-approval


def test_no_rule_means_no_auto_approval():
    pair = make_pair()
    assert service.auto_approve(db.session, pair.match) is False
    assert pair.match.state == MatchState.PROPOSED


def test_a_supply_rule_approves_small_proposals_between_active_organizations():
    coordinator = make_pair(requested=40).coordinator
    service.create_rule(db.session, coordinator, Kind.SUPPLY, None, 40)
    db.session.commit()
    match = db.session.scalars(sa.select(Match)).one()
    assert service.auto_approve(db.session, match) is True
    db.session.commit()
    assert match.state == MatchState.APPROVED and match.names_shared
    assert events_of("match.approved")[0]["auto_rule"] is not None


def test_a_rule_does_not_cover_larger_quantities_other_categories_or_staffing():
    pair = make_pair(requested=41)
    service.create_rule(db.session, pair.coordinator, Kind.SUPPLY, None, 40)
    strips = category("fentanyl-test-strips")
    service.create_rule(db.session, pair.coordinator, Kind.SUPPLY, strips.id, 1000)
    service.create_rule(db.session, pair.coordinator, Kind.STAFFING, None, 1000)
    db.session.commit()
    assert service.auto_approve(db.session, pair.match) is False
    assert pair.match.state == MatchState.PROPOSED


def test_a_rule_never_approves_when_an_organization_is_not_active():
    pair = make_pair(requested=10)
    service.create_rule(db.session, pair.coordinator, Kind.SUPPLY, None, 100)
    pair.giver.status = OrgStatus.SUSPENDED
    db.session.commit()
    assert service.auto_approve(db.session, pair.match) is False


def test_a_rule_category_must_be_of_the_rule_kind():
    coordinator = make_pair().coordinator
    with pytest.raises(ServiceError) as raised:
        service.create_rule(
            db.session, coordinator, Kind.STAFFING, category("naloxone-nasal-4mg").id, 5
        )
    assert raised.value.field == "category"


# ---------------------------------------------------------------- reading


def test_the_queue_is_sorted_by_urgency_then_age():
    giver = OrganizationFactory(lat=40.70, lon=-73.93)
    offer = ListingFactory(organization=giver, quantity=1000)
    made = []
    for urgency in (Urgency.NORMAL, Urgency.CRITICAL, Urgency.NORMAL, Urgency.HIGH):
        request = RequestFactory(quantity=5, urgency=urgency)
        made.append(propose(offer, request, 5))
        db.session.commit()
    ids = [m.id for m in service.queue(db.session)]
    assert ids == [made[1].id, made[3].id, made[0].id, made[2].id]


def test_the_ledger_sums_what_was_given_and_received_by_month_and_category():
    pair = make_pair(requested=40)
    for who, action in PATHS["fulfilled"]:
        act(pair, who, action)
    month = pair.match.received_at.strftime("%Y-%m")
    gave = service.ledger(db.session, pair.giver.id)
    received = service.ledger(db.session, pair.receiver.id)
    assert [(r["month"], r["gave"], r["received"]) for r in gave] == [(month, 40, 0)]
    assert [(r["month"], r["gave"], r["received"]) for r in received] == [(month, 0, 40)]
    assert gave[0]["category"] == "Naloxone nasal spray 4 mg"
