"""Listing use cases: posting, changing, withdrawing and expiring, with their events."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from marshmallow import ValidationError

from coalition.events.envelope import from_envelope
from coalition.extensions import db
from coalition.matching.geo import haversine_km
from coalition.matching.model import parse_offer, parse_request
from coalition.models import AuditEntry, Listing, OutboxEvent
from coalition.models.listings import Direction, ListingStatus, Visibility
from coalition.services import listings as service
from coalition.services.errors import ServiceError
from coalition.services.listing_input import (
    CREATE_SCHEMAS,
    OfferCreateSchema,
    RequestCreateSchema,
)
from tests.factories import CoordinatorFactory, OrganizationFactory, UserFactory
from tests.listings_support import (
    STAFFING_REQUEST,
    counts,
    event_types,
    future,
    post,
    reserve,
    window,
)


def test_post_offer_records_event_revision_and_audit(app):
    member = UserFactory()
    listing = post(member.organization, "offer", member)

    assert listing.status == ListingStatus.OPEN
    assert (listing.version, listing.available) == (1, 120)
    assert (listing.lat, listing.lon) == (member.organization.lat, member.organization.lon)
    assert listing.max_distance_km == member.organization.service_radius_km
    assert counts() == {"listings": 1, "revisions": 1, "outbox": 1, "audit": 1}
    event = from_envelope(db.session.scalar(sa.select(OutboxEvent)).payload)
    assert event.type == "offer.posted"
    assert event.actor == member.email
    assert event.data["id"] == listing.id
    assert event.data["version"] == 1
    assert event.data["organization_id"] == member.organization_id
    entry = db.session.scalar(sa.select(AuditEntry))
    assert (entry.action, entry.target_type, entry.actor_id) == (
        "offer.posted",
        "listings",
        member.id,
    )


def test_staffing_request_defaults_credentials_from_the_role(app):
    member = UserFactory()
    listing = post(member.organization, "request", member, **STAFFING_REQUEST)
    assert listing.credentials == ["rn-license"]
    assert listing.languages == ["es"]
    assert listing.windows[0]["start"].endswith("-05:00") or listing.windows[0]["start"].endswith(
        "-04:00"
    )
    assert event_types() == ["request.posted"]


def test_update_bumps_version_keeps_history_and_records_changed_fields(app):
    member = UserFactory()
    listing = post(member.organization, "offer", member)
    changed = service.update_listing(
        db.session, member, listing, {"quantity": 80, "notes": "half a case went"}
    )
    db.session.commit()

    assert changed is True
    assert (listing.version, listing.quantity, listing.notes) == (2, 80, "half a case went")
    revisions = service.revisions(db.session, listing)
    assert [r.version for r in revisions] == [2, 1]
    assert revisions[1].snapshot["quantity"] == 120
    assert revisions[0].snapshot["quantity"] == 80
    update = db.session.scalars(sa.select(OutboxEvent).order_by(OutboxEvent.id)).all()[-1]
    assert update.type == "offer.updated"
    assert update.payload["data"]["changed"] == ["notes", "quantity"]
    assert update.payload["data"]["version"] == 2


def test_an_update_that_changes_nothing_records_nothing(app):
    member = UserFactory()
    listing = post(member.organization, "offer", member)
    before = counts()
    assert service.update_listing(db.session, member, listing, {"quantity": 120}) is False
    assert counts() == before
    assert listing.version == 1


def test_withdraw_keeps_the_row_and_records_the_event(app):
    member = UserFactory()
    listing = post(member.organization, "request", member)
    service.withdraw_listing(db.session, member, listing)
    db.session.commit()

    assert db.session.get(Listing, listing.id).status == ListingStatus.WITHDRAWN
    assert listing.withdrawn_at is not None
    assert event_types() == ["request.posted", "request.withdrawn"]
    assert [r.action for r in service.revisions(db.session, listing)] == ["withdrawn", "posted"]
    with pytest.raises(ServiceError) as excinfo:
        service.withdraw_listing(db.session, member, listing)
    assert excinfo.value.status == 409
    with pytest.raises(ServiceError) as excinfo:
        service.update_listing(db.session, member, listing, {"quantity": 5})
    assert excinfo.value.status == 409


def test_quantity_cannot_drop_below_reserved_and_fulfilled(app):
    member = UserFactory()
    listing = post(member.organization, "offer", member)
    reserve(listing, 100)
    before = counts()

    with pytest.raises(service.ListingInvalid) as excinfo:
        service.update_listing(db.session, member, listing, {"quantity": 99})
    db.session.rollback()
    assert "quantity" in excinfo.value.errors
    assert counts() == before
    assert db.session.get(Listing, listing.id).quantity == 120

    service.update_listing(db.session, member, listing, {"quantity": 100})
    db.session.commit()
    assert (listing.quantity, listing.available, listing.status) == (
        100,
        0,
        ListingStatus.MATCHED,
    )


def test_members_change_only_their_own_organizations_listings(app):
    owner = UserFactory()
    stranger = UserFactory()
    coordinator = CoordinatorFactory()
    listing = post(owner.organization, "offer", owner)
    before = counts()

    for action in (
        lambda: service.update_listing(db.session, stranger, listing, {"quantity": 5}),
        lambda: service.withdraw_listing(db.session, stranger, listing),
        lambda: service.post_listing(
            db.session, stranger, "offer", _loaded(), org=owner.organization
        ),
    ):
        with pytest.raises(ServiceError) as excinfo:
            action()
        assert excinfo.value.status == 403
    db.session.rollback()
    assert counts() == before

    service.update_listing(db.session, coordinator, listing, {"quantity": 5})
    db.session.commit()
    assert listing.quantity == 5


def _loaded(**raw):
    """A loaded supply offer."""
    return OfferCreateSchema().load({"category": "naloxone-nasal-4mg", "quantity": 10, **raw})


def test_coordinators_must_name_the_organization(app):
    coordinator = CoordinatorFactory()
    with pytest.raises(service.ListingInvalid) as excinfo:
        service.post_listing(db.session, coordinator, "offer", _loaded())
    assert list(excinfo.value.errors) == ["org"]
    org = OrganizationFactory()
    listing = service.post_listing(db.session, coordinator, "offer", _loaded(org=org.slug))
    assert listing.organization_id == org.id


@pytest.mark.parametrize(
    ("direction", "raw", "field"),
    [
        ("offer", {"quantity": 0}, "quantity"),
        ("offer", {"quantity": -3}, "quantity"),
        ("offer", {"quantity": 2.5}, "quantity"),
        ("offer", {"quantity": "12 boxes"}, "quantity"),
        ("offer", {"quantity": True}, "quantity"),
        ("offer", {"category": "unicorn-horns"}, "category"),
        ("offer", {"kind": "staffing"}, "category"),
        ("request", {"category": "prescriber", "kind": "supply"}, "category"),
        ("offer", {"lat": 90.5}, "lat"),
        ("offer", {"lon": -181}, "lon"),
        ("offer", {"max_distance_km": 0}, "max_distance_km"),
        ("request", {"expires_on": future(30)}, "expires_on"),
        ("offer", {"need_by": future(3)}, "need_by"),
        ("offer", {"credentials": ["rn-license"]}, "credentials"),
        ("offer", {"windows": [window()]}, "windows"),
        ("request", {"urgency": "whenever"}, "urgency"),
        ("request", {"visibility": "everyone"}, "visibility"),
        (
            "request",
            {**STAFFING_REQUEST, "windows": [window(start=17, end=9)]},
            "windows",
        ),
        ("request", {**STAFFING_REQUEST, "windows": []}, "windows"),
        (
            "request",
            {**STAFFING_REQUEST, "windows": [{"start": "2026-12-01T09:00", "end": "x"}]},
            "windows",
        ),
        ("request", {**STAFFING_REQUEST, "languages": ["Spanish!"]}, "languages"),
        ("request", {**STAFFING_REQUEST, "need_by": future(3)}, "need_by"),
    ],
)
def test_invalid_input_is_refused_by_the_create_schema(app, direction, raw, field):
    base = {
        "offer": {"category": "naloxone-nasal-4mg", "quantity": 10},
        "request": {"category": "naloxone-nasal-4mg", "quantity": 10, "urgency": "high"},
    }[direction]
    with pytest.raises(ValidationError) as excinfo:
        CREATE_SCHEMAS[Direction(direction)]().load({**base, **raw})
    assert field in excinfo.value.messages


def test_need_by_in_the_past_is_refused_by_the_service(app):
    member = UserFactory()
    data = RequestCreateSchema().load(
        {"category": "naloxone-nasal-4mg", "quantity": 10, "need_by": "2020-01-01"}
    )
    with pytest.raises(service.ListingInvalid) as excinfo:
        service.post_listing(db.session, member, "request", data)
    assert excinfo.value.errors == {"need_by": ["must not be in the past"]}
    db.session.rollback()
    assert counts() == {"listings": 0, "revisions": 0, "outbox": 0, "audit": 0}


def test_update_checks_the_listing_as_it_will_be(app):
    member = UserFactory()
    listing = post(member.organization, "request", member, **STAFFING_REQUEST)
    for data, field in [
        ({"category": category_obj("naloxone-nasal-4mg")}, "category"),
        ({"windows": []}, "windows"),
        ({"kind": "supply"}, "kind"),
        ({"need_by": date.today() - timedelta(days=1)}, "need_by"),
    ]:
        with pytest.raises(service.ListingInvalid) as excinfo:
            service.update_listing(db.session, member, listing, data)
        assert field in excinfo.value.errors, data
    assert counts()["outbox"] == 1


def category_obj(slug):
    from tests.listings_support import category

    return category(slug)


def test_a_failure_after_the_flush_leaves_neither_listing_nor_event(app, monkeypatch):
    member = UserFactory()

    def broken_audit(*args, **kwargs):
        raise RuntimeError("audit log unavailable")

    monkeypatch.setattr(service, "audit", broken_audit)
    with pytest.raises(RuntimeError):
        service.post_listing(db.session, member, "offer", _loaded())
    db.session.rollback()
    assert counts() == {"listings": 0, "revisions": 0, "outbox": 0, "audit": 0}


def test_expire_listings_marks_past_due_ones_and_records_updates(app):
    member = UserFactory()
    org = member.organization
    today = date.today()
    short = post(org, "offer", member, expires_on=future(3))
    long = post(org, "offer", member, expires_on=future(300))
    no_expiry = post(org, "offer", member, expires_on=None)
    request = post(org, "request", member, need_by=future(5))
    staffing = post(org, "request", member, **STAFFING_REQUEST)
    withdrawn = post(org, "offer", member, expires_on=future(1))
    service.withdraw_listing(db.session, member, withdrawn)
    db.session.commit()
    outbox_before = counts()["outbox"]

    assert service.expire_listings(db.session, today + timedelta(days=4)) == 1
    assert service.expire_listings(db.session, today + timedelta(days=10)) == 2
    db.session.commit()

    statuses = {row.id: row.status for row in db.session.scalars(sa.select(Listing)).all()}
    assert (
        statuses[short.id]
        == statuses[request.id]
        == statuses[staffing.id]
        == (ListingStatus.EXPIRED)
    )
    assert statuses[long.id] == statuses[no_expiry.id] == ListingStatus.OPEN
    assert statuses[withdrawn.id] == ListingStatus.WITHDRAWN
    new = db.session.scalars(
        sa.select(OutboxEvent).order_by(OutboxEvent.id).offset(outbox_before)
    ).all()
    assert [e.type for e in new] == ["offer.updated", "request.updated", "request.updated"]
    assert all(e.payload["data"]["status"] == "expired" for e in new)
    assert all(e.payload["actor"] is None for e in new)
    assert service.expire_listings(db.session, today + timedelta(days=10)) == 0


def test_visibility_rules(app):
    owner = UserFactory()
    stranger = UserFactory()
    coordinator = CoordinatorFactory()
    hidden = post(owner.organization, "offer", owner, visibility="coordinators")
    public = post(owner.organization, "offer", owner)

    def visible_ids(actor):
        return {row.id for row in db.session.scalars(service.visible_listings_query(actor))}

    assert visible_ids(owner) == visible_ids(coordinator) == {hidden.id, public.id}
    assert visible_ids(stranger) == {public.id}
    with pytest.raises(ServiceError) as excinfo:
        service.visible_listing(db.session, stranger, hidden.id)
    assert excinfo.value.status == 404
    assert hidden.visibility == Visibility.COORDINATORS


def test_problem_dicts_parse_with_the_matching_contract(app):
    member = UserFactory()
    offer = post(member.organization, "offer", member)
    reserve(offer, 20)
    request = post(member.organization, "request", member, need_by=future(9))
    staffing = post(member.organization, "request", member, **STAFFING_REQUEST)

    parsed_offer = parse_offer(service.listing_to_problem_dict(offer))
    assert parsed_offer.quantity == 100
    assert parsed_offer.expires_on == date.fromisoformat(future(45))
    parsed_request = parse_request(service.listing_to_problem_dict(request))
    assert (parsed_request.urgency, parsed_request.need_by) == (
        "high",
        date.fromisoformat(future(9)),
    )
    parsed_staffing = parse_request(service.listing_to_problem_dict(staffing))
    assert parsed_staffing.languages == frozenset({"es"})
    assert parsed_staffing.credentials == frozenset({"rn-license"})
    assert len(parsed_staffing.windows) == 1


def test_search_filters_and_distance(app):
    near = OrganizationFactory(name="Bushwick Exchange", lat=40.6971, lon=-73.9353)
    far = OrganizationFactory(name="Staten Island Recovery", lat=40.6368, lon=-74.0765)
    viewer = UserFactory(organization=near)
    a = post(near, "offer", None, notes="Lot from the state program")
    b = post(far, "offer", None, category="fentanyl-test-strips", expires_on=None)
    c = post(far, "request", None, urgency="critical")

    def ids(**kwargs):
        filters = service.ListingFilters(origin=(near.lat, near.lon), **kwargs)
        query = service.filtered_query(viewer, filters)
        rows = service.with_distances(list(db.session.scalars(query)), filters)
        return {row.id for row, _ in rows}

    assert ids() == {a.id, b.id, c.id}
    assert ids(direction="request") == {c.id}
    assert ids(urgency="critical") == {c.id}
    assert ids(category="fentanyl-test-strips") == {b.id}
    # others' listings are neither filtered nor searched by organization (discretion)
    assert ids(org=far.slug) == set()
    assert ids(org=near.slug) == {a.id}
    assert ids(q="STATE program") == {a.id}
    assert ids(q="staten island") == set()
    assert ids(q="fentanyl") == {b.id}
    assert ids(q="100%") == set()
    assert ids(within_km=5) == {a.id}
    assert ids(within_km=20) == {a.id, b.id, c.id}
    assert ids(statuses=["withdrawn"]) == set()
    distance = haversine_km(near.lat, near.lon, far.lat, far.lon)
    assert 13 < distance < 15
