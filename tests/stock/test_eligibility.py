"""Eligibility: a category that requires a credential is never proposed to a receiver without
it, on every path that creates proposals; the explanation says why; reminders go once."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from coalition.extensions import db
from coalition.matching import Offer, Problem, Request, ineligibility_reason, solve_optimal
from coalition.models.credentials import Credential
from coalition.models.matches import Match, MatchState
from coalition.models.notifications import Notification
from coalition.services import credentials, proposals
from coalition.story import passed_over_reason
from tests.factories import (
    CoordinatorFactory,
    ListingFactory,
    OrganizationFactory,
    RequestFactory,
    UserFactory,
    category,
)

TODAY = date(2026, 11, 26)
REASON = "not eligible: no standing order on file"


@pytest.fixture
def standing_order(app):
    """Naloxone needs a standing order while the test runs."""
    naloxone = category("naloxone-nasal-4mg")
    naloxone.requires_credential = "naloxone-standing-order"
    db.session.commit()
    yield naloxone
    naloxone.requires_credential = ""
    db.session.commit()


def holder(verified=True, expires_on=date(2027, 6, 30), **kw):
    org = OrganizationFactory(**kw)
    db.session.add(
        Credential(
            organization_id=org.id,
            kind="naloxone-standing-order",
            document_ref="SO-2026-114",
            expires_on=expires_on,
            verified_at=datetime(2026, 11, 1, tzinfo=UTC) if verified else None,
        )
    )
    db.session.commit()
    return org


def _proposed():
    return db.session.scalars(sa.select(Match).where(Match.state == MatchState.PROPOSED)).all()


def test_the_engine_names_the_missing_credential():
    offer = Offer(id="o", org="a", kind="supply", category="n", quantity=5, lat=40.7, lon=-73.9,
                  max_distance_km=30)  # fmt: skip
    request = Request(id="r", org="b", kind="supply", category="n", quantity=5, lat=40.7,
                      lon=-73.9, max_distance_km=30, urgency="high", ineligible=REASON)  # fmt: skip
    assert ineligibility_reason(offer, request, TODAY) == REASON
    solution = solve_optimal(Problem(TODAY, (offer,), (request,)))
    assert solution.allocations == ()


def test_a_new_offer_is_proposed_only_to_the_eligible_receiver_and_says_why(standing_order):
    without = RequestFactory(quantity=10, organization=OrganizationFactory(lat=40.70, lon=-73.93))
    eligible = RequestFactory(quantity=10, organization=holder(lat=40.75, lon=-73.95))
    offer = ListingFactory(quantity=10, organization=OrganizationFactory(lat=40.70, lon=-73.94))
    (match,) = proposals.propose_for_listing(db.session, offer.id, TODAY)
    assert match.request_id == eligible.id
    passed = match.explanation["alternatives"]
    assert any(a.get("reason") == REASON for a in passed), passed
    assert passed_over_reason({"reason": REASON}) == (
        "one is not eligible: no standing order on file"
    )
    assert without.reserved == 0


def test_a_request_of_an_ineligible_receiver_gets_no_proposal(standing_order):
    ListingFactory(quantity=10, organization=OrganizationFactory(lat=40.70, lon=-73.94))
    request = RequestFactory(quantity=10, organization=OrganizationFactory(lat=40.70, lon=-73.93))
    assert proposals.propose_for_listing(db.session, request.id, TODAY) == []


@pytest.mark.parametrize(
    "credential",
    [{"verified": False}, {"expires_on": date(2026, 11, 1)}],
    ids=["unverified", "expired"],
)
def test_an_unverified_or_expired_credential_does_not_count(standing_order, credential):
    ListingFactory(quantity=10, organization=OrganizationFactory(lat=40.70, lon=-73.94))
    org = holder(lat=40.70, lon=-73.93, **credential)
    request = RequestFactory(quantity=10, organization=org)
    assert proposals.propose_for_listing(db.session, request.id, TODAY) == []


def test_the_periodic_resolve_never_proposes_to_an_ineligible_receiver(standing_order):
    ListingFactory(quantity=10, organization=OrganizationFactory(lat=40.70, lon=-73.94))
    RequestFactory(quantity=10, organization=OrganizationFactory(lat=40.70, lon=-73.93))
    result = proposals.resolve(db.session, margin=0.0, today=TODAY)
    assert result.optimal_value == 0 and _proposed() == []


def test_the_resolve_gives_to_the_eligible_receiver(standing_order):
    offer = ListingFactory(quantity=10, organization=OrganizationFactory(lat=40.70, lon=-73.94))
    RequestFactory(quantity=10, organization=OrganizationFactory(lat=40.70, lon=-73.93))
    eligible = RequestFactory(quantity=10, organization=holder(lat=40.72, lon=-73.93))
    proposals.resolve(db.session, margin=0.0, today=TODAY)
    assert [(m.offer_id, m.request_id) for m in _proposed()] == [(offer.id, eligible.id)]


def test_any_other_path_is_stopped_when_it_records_the_proposal(standing_order):
    offer = ListingFactory(quantity=10, organization=OrganizationFactory(lat=40.70, lon=-73.94))
    request = RequestFactory(quantity=10, organization=OrganizationFactory(lat=40.70, lon=-73.93))
    made = proposals._record(db.session, str(offer.id), str(request.id), 10, 1.0, {})
    assert made is None and _proposed() == []
    db.session.refresh(offer)
    assert offer.reserved == 0


def test_the_request_page_tells_the_receiver_why(standing_order, login):
    member = UserFactory()
    request = RequestFactory(organization=member.organization)
    html = login(member).get(f"/listings/{request.id}").get_data(as_text=True)
    assert "Not eligible: no standing order on file." in html


def test_members_add_credentials_and_coordinators_verify_them(login):
    member = UserFactory()
    page = login(member).post(
        "/stock/credentials",
        data={
            "kind": "naloxone-standing-order",
            "document_ref": "SO-1",
            "expires_on": "2030-01-31",
        },
    )
    assert page.status_code == 302
    credential = db.session.scalar(sa.select(Credential))
    assert credential.organization_id == member.organization_id and credential.verified_at is None
    assert login(member).post(f"/stock/credentials/{credential.id}/verify").status_code == 403
    coordinator = CoordinatorFactory()
    assert login(coordinator).post(f"/stock/credentials/{credential.id}/verify").status_code == 302
    db.session.refresh(credential)
    assert credential.verified_by_id == coordinator.id


def test_a_credential_without_a_document_or_in_the_past_is_refused(login):
    page = login(UserFactory()).post(
        "/stock/credentials",
        data={"kind": "naloxone-standing-order", "document_ref": "", "expires_on": "2020-01-01"},
    )
    assert page.status_code == 422
    assert "give the document&#39;s number or name" in page.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Credential)) == 0


def test_reminders_go_30_days_before_expiry_once_and_expiry_tells_the_coordinators(app):
    soon = holder(expires_on=date(2026, 12, 20))
    past = holder(expires_on=date(2026, 11, 20))
    holder(expires_on=date(2027, 6, 30))
    member = UserFactory(organization=soon, locale="es")
    UserFactory(organization=past)
    CoordinatorFactory()
    now = datetime(2026, 12, 1, 9, tzinfo=UTC)
    assert credentials.send_reminders(db.session, now.date(), now) == {"reminded": 1, "expired": 1}
    assert credentials.send_reminders(db.session, now.date(), now) == {"reminded": 0, "expired": 0}
    db.session.commit()
    notes = db.session.scalars(sa.select(Notification).order_by(Notification.id)).all()
    assert [(n.user_id, n.title) for n in notes if n.user_id == member.id] == [
        (member.id, "Una credencial vence en menos de 30 días")
    ]
    assert len([n for n in notes if n.title == "A credential has expired"]) == 2
