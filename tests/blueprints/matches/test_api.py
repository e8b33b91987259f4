"""`/api/v1/matches`: who sees which match, the discretion rule, actions, errors."""

from __future__ import annotations

import re

import pytest

from coalition.extensions import db
from coalition.models.audit import AuditEntry
from coalition.models.events import OutboxEvent
from coalition.models.matches import MatchState
from coalition.services.accounts import issue_api_token
from tests.conftest import count
from tests.matches_support import leaks, make_pair, outsider


def bearer(person=None, org=None):
    """Headers for a personal (or organization) API token: no CSRF involved."""
    _, token = issue_api_token(db.session, None, org=org, user=person)
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


class Api:
    """A client acting for one person with their API token."""

    def __init__(self, client, person):
        self.client, self.headers = client, bearer(person)

    def get(self, url):
        return self.client.get(url, headers=self.headers)

    def post(self, url, json=None):
        return self.client.post(url, json=json, headers=self.headers)


@pytest.fixture
def as_(client):
    return lambda person: Api(client, person)


def test_members_of_either_organization_and_coordinators_see_the_match(as_):
    pair = make_pair()
    for person in (pair.giver_member, pair.receiver_member, pair.coordinator):
        body = as_(person).get("/api/v1/matches").json
        assert [m["id"] for m in body] == [pair.match.id]
        one = as_(person).get(f"/api/v1/matches/{pair.match.id}")
        assert one.status_code == 200 and one.json["state"] == "proposed"
    assert as_(outsider()).get("/api/v1/matches").json == []
    assert as_(outsider()).get(f"/api/v1/matches/{pair.match.id}").status_code == 404


def test_anonymous_callers_get_a_json_401(client):
    response = client.get("/api/v1/matches")
    assert response.status_code == 401 and response.json["code"] == 401


def test_before_approval_the_api_hides_the_other_organization(as_):
    pair = make_pair()
    body = as_(pair.receiver_member).get(f"/api/v1/matches/{pair.match.id}").json
    assert body["offer"] == {
        "listing_id": None,
        "organization": None,
        "description": "a member organization in Manhattan, 15 km away",
    }
    assert body["request"]["organization"]["slug"] == "bushwick-outreach"
    assert body["our_side"] == "request" and body["names_shared"] is False
    assert "offer" not in body["explanation"]
    assert body["explanation"]["urgency"] == "high"
    assert body["explanation"]["distance_km"] == 15.0  # whole km before approval
    assert body["explanation"]["days_to_expiry"] == 45
    raw = as_(pair.receiver_member).get("/api/v1/matches").get_data(as_text=True)
    assert leaks(raw, pair.receiver) == []
    raw = as_(pair.giver_member).get(f"/api/v1/matches/{pair.match.id}").get_data(as_text=True)
    assert leaks(raw, pair.giver) == []


def test_a_reason_given_before_approval_stays_with_coordinators(as_):
    pair = make_pair()
    url = f"/api/v1/matches/{pair.match.id}"
    as_(pair.giver_member).post(f"{url}/cancel", {"reason": "Harlem Harm Reduction ran out"})
    assert as_(pair.receiver_member).get(url).json["reason"] == ""
    assert as_(pair.coordinator).get(url).json["reason"] == "Harlem Harm Reduction ran out"


def test_approval_shares_names_and_contacts_with_both_sides(as_):
    pair = make_pair()
    response = as_(pair.coordinator).post(f"/api/v1/matches/{pair.match.id}/approve")
    assert response.status_code == 200 and response.json["state"] == "approved"
    body = as_(pair.receiver_member).get(f"/api/v1/matches/{pair.match.id}").json
    assert body["offer"]["organization"]["contact_email"] == "give@harlem-hr.example.org"
    assert body["offer"]["listing_id"] == pair.offer.id
    assert body["actions"] == ["accept", "decline", "cancel"]


def test_coordinators_always_see_everything(as_):
    pair = make_pair()
    body = as_(pair.coordinator).get(f"/api/v1/matches/{pair.match.id}").json
    assert body["offer"]["organization"]["name"] == "Harlem Harm Reduction"
    assert body["request"]["organization"]["name"] == "Bushwick Outreach"
    assert body["explanation"]["offer"] == str(pair.offer.id)
    assert body["actions"] == ["approve", "reject", "cancel"]


def test_the_full_path_over_the_api_with_an_org_token(client, as_):
    pair = make_pair()
    giver = bearer(org=pair.giver)
    base = f"/api/v1/matches/{pair.match.id}"
    assert as_(pair.coordinator).post(f"{base}/approve").status_code == 200
    assert client.post(f"{base}/accept", headers=giver).json["offer_accepted"] is True
    assert as_(pair.receiver_member).post(f"{base}/accept").json["state"] == "accepted"
    assert client.post(f"{base}/handoff", headers=giver).json["state"] == "handed_off"
    assert client.post(f"{base}/receive", headers=giver).status_code == 403
    assert as_(pair.receiver_member).post(f"{base}/receive").json["state"] == "fulfilled"
    assert pair.counts() == ((80, 0, 40), (0, 0, 40))


def test_reject_requires_a_reason_and_a_missing_one_is_a_422_that_writes_nothing(as_):
    pair = make_pair()
    coordinator = as_(pair.coordinator)
    before = (count(OutboxEvent), count(AuditEntry))
    for body in ({}, {"reason": ""}, {"reason": "   "}):
        response = coordinator.post(f"/api/v1/matches/{pair.match.id}/reject", json=body)
        assert response.status_code == 422, body
        assert response.json["code"] == 422 and "reason" in response.json["errors"]
    assert (count(OutboxEvent), count(AuditEntry)) == before
    pair.refresh()
    assert pair.match.state == MatchState.PROPOSED
    ok = coordinator.post(f"/api/v1/matches/{pair.match.id}/reject", json={"reason": "dup"})
    assert ok.status_code == 200 and ok.json["state"] == "rejected"
    assert ok.json["reason"] == "dup"


def test_a_second_decision_gets_a_409_in_the_json_error_shape(as_):
    pair = make_pair()
    first, second = as_(pair.coordinator), as_(pair.coordinator)
    assert first.post(f"/api/v1/matches/{pair.match.id}/approve").status_code == 200
    response = second.post(f"/api/v1/matches/{pair.match.id}/reject", json={"reason": "no"})
    assert response.status_code == 409
    assert response.json["code"] == 409 and "approved" in response.json["message"]
    assert response.json["errors"] == {}


@pytest.mark.parametrize(
    ("who", "action", "status"),
    [
        ("giver", "approve", 403),
        ("receiver", "reject", 403),
        ("outsider", "approve", 403),
        ("outsider", "accept", 404),
        ("outsider", "cancel", 404),
        ("giver", "accept", 409),
        ("giver", "handoff", 409),
        ("receiver", "receive", 409),
        ("receiver", "decline", 409),
        ("giver", "cancel", 200),
        ("coordinator", "accept", 403),
    ],
)
def test_who_may_act_on_a_proposal_over_the_api(as_, who, action, status):
    pair = make_pair()
    person = pair.person(who)
    json = {"reason": "x"} if action in ("reject", "decline", "cancel") else None
    response = as_(person).post(f"/api/v1/matches/{pair.match.id}/{action}", json=json)
    assert response.status_code == status
    if status != 200:
        assert response.json["code"] == status
        pair.refresh()
        assert pair.match.state == MatchState.PROPOSED


def test_session_writes_need_the_csrf_token(login):
    pair = make_pair()
    signed_in = login(pair.coordinator)
    url = f"/api/v1/matches/{pair.match.id}/approve"
    assert signed_in.post(url).status_code == 400
    pair.refresh()
    assert pair.match.state == MatchState.PROPOSED
    page = signed_in.get("/matches/queue").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    response = signed_in.post(url, headers={"X-CSRFToken": token})
    assert response.status_code == 200 and response.json["state"] == "approved"


def test_the_state_filter_and_its_validation(as_):
    pair = make_pair()
    coordinator = as_(pair.coordinator)
    assert len(coordinator.get("/api/v1/matches?state=proposed").json) == 1
    assert coordinator.get("/api/v1/matches?state=approved").json == []
    bad = coordinator.get("/api/v1/matches?state=nonsense")
    assert bad.status_code == 422 and "state" in bad.json["errors"]


def test_the_openapi_document_lists_every_match_endpoint(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    for suffix in ("", "/{match_id}") + tuple(
        f"/{{match_id}}/{a}"
        for a in ("approve", "reject", "accept", "decline", "handoff", "receive", "cancel")
    ):
        assert f"/api/v1/matches{suffix}" in paths, suffix
    reject = paths["/api/v1/matches/{match_id}/reject"]["post"]
    assert "requestBody" in reject
