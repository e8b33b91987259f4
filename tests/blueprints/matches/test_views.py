"""Matches on the web: queue, one-click and bulk decisions, the organization's view,
discretion in pages, the ledger and auto-approval rules."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from coalition.extensions import db
from coalition.models.audit import AuditEntry
from coalition.models.listings import Urgency
from coalition.models.matches import MatchState
from coalition.models.notifications import (
    AutoApprovalRule,
)
from tests.conftest import count
from tests.factories import ListingFactory, OrganizationFactory, RequestFactory
from tests.matches_support import leaks, make_pair, propose


def page(response):
    return response.get_data(as_text=True)


# ---------------------------------------------------------------- the coordinators' queue


def test_only_coordinators_see_the_queue(login):
    pair = make_pair()
    assert login(pair.giver_member).get("/matches/queue").status_code == 403
    html = page(login(pair.coordinator).get("/matches/queue"))
    assert "Harlem Harm Reduction" in html and "Bushwick Outreach" in html
    assert (
        "15 km away." in html
        and "This lot expires in 45 days, so moving it now avoids waste." in html
    )
    assert "One other option was passed over: one was a weaker fit (22 km away)." in html
    assert "Details for coordinators" in html and "Days to expiry" in html


def test_the_queue_shows_the_most_urgent_then_the_oldest_first(login):
    pair = make_pair()
    offer = ListingFactory(quantity=500, organization=OrganizationFactory(name="Giver B"))
    critical = propose(offer, RequestFactory(quantity=3, urgency=Urgency.CRITICAL), 3)
    low = propose(offer, RequestFactory(quantity=3, urgency=Urgency.LOW), 3)
    db.session.commit()
    html = page(login(pair.coordinator).get("/matches/queue"))
    order = [html.index(f'id="match-{m.id}"') for m in (critical, pair.match, low)]
    assert order == sorted(order)


def test_approve_in_one_click_goes_back_to_the_queue(login):
    pair = make_pair()
    response = login(pair.coordinator).post(
        f"/matches/{pair.match.id}/approve", data={"next": "/matches/queue"}
    )
    assert response.status_code == 302 and response.location.endswith("/matches/queue")
    pair.refresh()
    assert pair.match.state == MatchState.APPROVED


def test_reject_without_a_reason_reshows_the_form_and_writes_nothing(login):
    pair = make_pair()
    before = count(AuditEntry)
    response = login(pair.coordinator).post(f"/matches/{pair.match.id}/reject", data={})
    assert response.status_code == 422
    assert "Give a reason." in page(response)
    pair.refresh()
    assert pair.match.state == MatchState.PROPOSED and count(AuditEntry) == before
    ok = login(pair.coordinator).post(f"/matches/{pair.match.id}/reject", data={"reason": "dup"})
    assert ok.status_code == 302
    pair.refresh()
    assert pair.match.state == MatchState.REJECTED and pair.match.reason == "dup"


def test_bulk_approve_approves_the_selected_and_reports_the_rest(login):
    pair = make_pair()
    other = propose(ListingFactory(quantity=10), RequestFactory(quantity=10), 10)
    rejected = propose(ListingFactory(quantity=10), RequestFactory(quantity=10), 10)
    db.session.commit()
    coordinator = login(pair.coordinator)
    coordinator.post(f"/matches/{rejected.id}/reject", data={"reason": "no"})
    ids = [str(pair.match.id), str(other.id), str(rejected.id)]
    response = coordinator.post("/matches/queue/approve", data={"ids": ids}, follow_redirects=True)
    html = page(response)
    assert "Approved 2 proposals." in html and f"#{rejected.id}" in html
    for match in (pair.match, other, rejected):
        db.session.refresh(match)
    assert (pair.match.state, other.state, rejected.state) == (
        MatchState.APPROVED,
        MatchState.APPROVED,
        MatchState.REJECTED,
    )


def test_members_cannot_bulk_approve(login):
    pair = make_pair()
    response = login(pair.giver_member).post(
        "/matches/queue/approve", data={"ids": [str(pair.match.id)]}
    )
    assert response.status_code == 403
    pair.refresh()
    assert pair.match.state == MatchState.PROPOSED


def test_a_decision_on_a_stale_page_is_a_409_with_the_reason(login):
    pair = make_pair()
    first, second = login(pair.coordinator), login(pair.coordinator)
    first.post(f"/matches/{pair.match.id}/approve")
    response = second.post(f"/matches/{pair.match.id}/reject", data={"reason": "late"})
    assert response.status_code == 409
    assert "cannot be rejected: it is approved now" in page(response)


# ---------------------------------------------------------------- the organization's view


def test_before_approval_pages_show_the_other_side_only_by_borough_and_distance(login):
    pair = make_pair()
    for member, org in ((pair.giver_member, pair.giver), (pair.receiver_member, pair.receiver)):
        for url in ("/matches", f"/matches/{pair.match.id}", "/notifications"):
            html = page(login(member).get(url))
            assert leaks(html, org) == [], (url, leaks(html, org))
    html = page(login(pair.receiver_member).get(f"/matches/{pair.match.id}"))
    assert "a member organization in Manhattan, 15 km away" in html
    assert "offer #999" not in html  # alternatives never name other listings to members


def test_after_approval_pages_show_names_and_contacts(login):
    pair = make_pair()
    login(pair.coordinator).post(f"/matches/{pair.match.id}/approve")
    html = page(login(pair.receiver_member).get(f"/matches/{pair.match.id}"))
    assert "Harlem Harm Reduction" in html and "give@harlem-hr.example.org" in html
    assert "+1 212 555 0111" in html


def test_members_act_from_their_matches_page(login):
    pair = make_pair()
    login(pair.coordinator).post(f"/matches/{pair.match.id}/approve")
    giver, receiver = login(pair.giver_member), login(pair.receiver_member)
    waiting = page(giver.get("/matches")).split("Under review")[0]
    assert f'id="match-{pair.match.id}"' in waiting and ">Accept<" in waiting
    giver.post(f"/matches/{pair.match.id}/accept", data={"next": "/matches"})
    others = page(giver.get("/matches")).split("Waiting for the other organization")[1]
    assert f'id="match-{pair.match.id}"' in others.split("History")[0]
    receiver.post(f"/matches/{pair.match.id}/accept")
    giver.post(f"/matches/{pair.match.id}/handoff")
    receiver.post(f"/matches/{pair.match.id}/receive")
    pair.refresh()
    assert pair.match.state == MatchState.FULFILLED
    assert pair.counts() == ((80, 0, 40), (0, 0, 40))


@pytest.mark.parametrize(
    ("who", "action", "status"),
    [
        ("giver", "approve", 403),
        ("receiver", "reject", 403),
        ("giver", "receive", 403),
        ("receiver", "handoff", 403),
        ("outsider", "accept", 404),
        ("giver", "accept", 409),
        ("coordinator", "accept", 403),
        ("giver", "nonsense", 404),
    ],
)
def test_who_may_act_from_the_web(login, who, action, status):
    pair = make_pair()
    person = pair.person(who)
    response = login(person).post(f"/matches/{pair.match.id}/{action}", data={"reason": "x"})
    assert response.status_code == status
    pair.refresh()
    assert pair.match.state == MatchState.PROPOSED


def test_the_ledger_shows_what_we_gave_and_received(login):
    pair = make_pair()
    login(pair.coordinator).post(f"/matches/{pair.match.id}/approve")
    for person, action in (
        (pair.giver_member, "accept"),
        (pair.receiver_member, "accept"),
        (pair.giver_member, "handoff"),
        (pair.receiver_member, "receive"),
    ):
        login(person).post(f"/matches/{pair.match.id}/{action}")
    html = page(login(pair.receiver_member).get("/matches/ledger"))
    assert "Naloxone nasal spray 4 mg" in html and "<td>0</td><td>40</td>" in html
    html = page(login(pair.giver_member).get("/matches/ledger"))
    assert "<td>40</td><td>0</td>" in html
    assert login(CoordinatorNoOrg()).get("/matches/ledger").status_code == 404


def CoordinatorNoOrg():  # noqa: N802
    from tests.factories import CoordinatorFactory

    return CoordinatorFactory()


# ---------------------------------------------------------------- auto-approval rules


def test_coordinators_add_and_turn_off_rules(login):
    pair = make_pair()
    client = login(pair.coordinator)
    assert (
        client.post(
            "/matches/rules", data={"kind": "supply", "category": "", "max_quantity": "50"}
        ).status_code
        == 302
    )
    rule = db.session.scalars(sa.select(AutoApprovalRule)).one()
    assert (rule.kind.value, rule.category_id, rule.max_quantity) == ("supply", None, 50)
    client.post(f"/matches/rules/{rule.id}/disable")
    db.session.refresh(rule)
    assert rule.enabled is False
    client.post(f"/matches/rules/{rule.id}/delete")
    assert count(AutoApprovalRule) == 0


def test_an_invalid_rule_is_reshown_with_messages(login):
    pair = make_pair()
    response = login(pair.coordinator).post(
        "/matches/rules", data={"kind": "supply", "category": "", "max_quantity": "0"}
    )
    assert response.status_code == 422 and 'class="errors"' in page(response)
    assert count(AutoApprovalRule) == 0


def test_members_cannot_see_or_change_rules(login):
    pair = make_pair()
    member = login(pair.giver_member)
    assert member.get("/matches/rules").status_code == 403
    assert (
        member.post("/matches/rules", data={"kind": "supply", "max_quantity": "5"}).status_code
        == 403
    )
    assert count(AutoApprovalRule) == 0
