"""Home pages say what waits for each person, in their language."""

from __future__ import annotations

from coalition.extensions import db
from coalition.models.matches import MatchState
from tests.matches_support import make_pair


def html_of(response) -> str:
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_member_sees_the_match_waiting_for_them_with_its_action(login):
    pair = make_pair()
    pair.match.state = MatchState.APPROVED
    db.session.commit()
    html = html_of(login(pair.receiver_member).get("/"))
    assert f'id="home-match-{pair.match.id}"' in html
    assert "Accept it if you can give or take it, or decline." in html
    assert f"/matches/{pair.match.id}/accept" in html


def test_a_member_with_nothing_waiting_is_told_what_comes_next(login):
    pair = make_pair()
    html = html_of(login(pair.giver_member).get("/"))
    assert "Nothing waits for you right now." in html
    assert "Our open listings" in html


def test_a_coordinator_sees_the_queue_and_unmet_requests(login):
    pair = make_pair()
    html = html_of(login(pair.coordinator).get("/", headers={"Accept-Language": "es"}))
    assert "Propuestas por revisar" in html and "propuesta espera" in html
    assert "Solicitudes sin cubrir" in html
    assert f"{pair.coordinator.name}" in html


def test_audit_entries_read_as_changes(login):
    from coalition.services.audit import audit

    pair = make_pair()
    audit(
        db.session,
        pair.coordinator,
        "listing.updated",
        pair.offer,
        {"quantity": [240, 200], "notes": ["a" * 60, "b" * 60]},
    )
    db.session.commit()
    html = html_of(login(pair.coordinator).get("/coordinator/audit"))
    assert "quantity 240 → 200; notes changed" in html
