"""Listings pages (and, in the role tables, the token and catalog pages): authorization by
role, forms that re-show their fields' messages and change nothing, search, quick-post,
import, export."""

from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa

from coalition.extensions import db
from coalition.models import ApiToken, Listing
from tests.listings_support import (
    counts,
    event_types,
    future,
    post,
    reserve,
)

ROLES = ("anonymous", "member", "admin", "other_member", "coordinator", "suspended")


def _signed_out(response):
    return response.status_code == 302 and "/login" in response.headers["Location"]


def _expect(response, expected):
    if expected == "login":
        assert _signed_out(response), (response.status_code, response.headers.get("Location"))
    else:
        assert response.status_code == expected


# ---------------------------------------------------------------- authorization tables

PAGES = [
    # (url template, {role: expected}); defaults: anonymous and suspended go to sign-in
    ("/listings/", {}),
    ("/listings/export.csv", {}),
    ("/listings/{public}", {}),
    ("/listings/{hidden}", {"other_member": 404}),
    ("/listings/{public}/edit", {"other_member": 403}),
    ("/listings/{hidden}/edit", {"other_member": 404}),
    ("/listings/new?direction=offer", {}),
    ("/listings/new?direction=request", {}),
    ("/listings/quick", {"coordinator": 403}),
    ("/listings/mine", {"coordinator": 302}),
    ("/listings/import", {"member": 403, "other_member": 403}),
    ("/org/{owner_org}/tokens", {"member": 403, "other_member": 403}),
    ("/catalog/", {"member": 403, "admin": 403, "other_member": 403}),
]


@pytest.mark.parametrize(("template", "overrides"), PAGES)
@pytest.mark.parametrize("role", ROLES)
def test_pages_by_role(world, as_role, template, overrides, role):
    public = post(world.owner_org, "offer")
    hidden = post(world.owner_org, "request", visibility="coordinators")
    url = template.format(public=public.id, hidden=hidden.id, owner_org=world.owner_org.id)
    expected = {"anonymous": "login", "suspended": "login", **overrides}.get(role, 200)
    _expect(as_role(role).get(url), expected)


WRITES = [
    ("/listings/{public}/withdraw", {}, {"other_member": 403}, 302),
    ("/listings/{hidden}/withdraw", {}, {"other_member": 404}, 302),
    ("/listings/{public}/edit", {"quantity": "9"}, {"other_member": 403}, 302),
    ("/org/{owner_org}/tokens", {"label": "sheet"}, {"member": 403, "other_member": 403}, 200),
    ("/catalog/", {"slug": "test-x"}, {"member": 403, "admin": 403, "other_member": 403}, 422),
]


@pytest.mark.parametrize(("template", "data", "overrides", "ok"), WRITES)
@pytest.mark.parametrize("role", ROLES)
def test_writes_by_role(world, as_role, template, data, overrides, ok, role):
    public = post(world.owner_org, "offer")
    hidden = post(world.owner_org, "request", visibility="coordinators")
    url = template.format(public=public.id, hidden=hidden.id, owner_org=world.owner_org.id)
    form = dict(data)
    if "edit" in url:
        form.update(category="naloxone-nasal-4mg", visibility="coalition")
    before = counts()
    expected = {"anonymous": "login", "suspended": "login", **overrides}.get(role, ok)
    _expect(as_role(role).post(url, data=form), expected)
    if expected != ok:
        assert counts() == before


def test_token_revoke_by_role(world, as_role):
    from coalition.services.accounts import issue_api_token

    row, _ = issue_api_token(db.session, None, org=world.owner_org)
    db.session.commit()
    url = f"/org/{world.owner_org.id}/tokens/{row.id}/revoke"
    for role, expected in [("anonymous", "login"), ("member", 403), ("other_member", 403)]:
        _expect(as_role(role).post(url), expected)
    assert db.session.get(ApiToken, row.id).revoked_at is None
    assert as_role("admin").post(url).status_code == 302
    db.session.refresh(row)
    assert row.revoked_at is not None


# ---------------------------------------------------------------- posting through forms


def _offer_form(**fields):
    return {
        "category": "naloxone-nasal-4mg",
        "quantity": "120",
        "expires_on": future(45),
        "visibility": "coalition",
        **fields,
    }


def test_member_posts_an_offer_with_a_lot_expiry(world, as_role):
    response = as_role("member").post("/listings/new?direction=offer", data=_offer_form())
    assert response.status_code == 302
    listing = db.session.scalar(sa.select(Listing))
    assert response.headers["Location"].endswith(f"/listings/{listing.id}")
    assert (listing.quantity, listing.expires_on.isoformat()) == (120, future(45))
    assert listing.organization_id == world.owner_org.id
    assert event_types() == ["offer.posted"]
    page = as_role("member").get("/listings/mine").get_data(as_text=True)
    assert "Naloxone nasal spray 4 mg" in page


def test_member_posts_a_request_for_a_spanish_speaking_nurse(world, as_role):
    response = as_role("member").post(
        "/listings/new?direction=request",
        data={
            "category": "registered-nurse",
            "quantity": "24",
            "urgency": "high",
            "languages": "es",
            "windows": "2027-01-05 09:00 to 17:00\n2027-01-06 09:00 to 2027-01-06 13:00",
            "visibility": "coalition",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    listing = db.session.scalar(sa.select(Listing))
    assert listing.languages == ["es"]
    assert listing.credentials == ["rn-license"]
    assert listing.urgency.value == "high"
    assert listing.windows[0] == {
        "start": "2027-01-05T09:00:00-05:00",
        "end": "2027-01-05T17:00:00-05:00",
    }
    assert event_types() == ["request.posted"]
    browse = as_role("other_member").get("/listings/?q=nurse").get_data(as_text=True)
    assert "Registered nurse" in browse


@pytest.mark.parametrize(
    ("direction", "fields", "field", "message"),
    [
        ("offer", {"quantity": "0"}, "quantity", "Enter a whole number of 1 or more."),
        ("offer", {"quantity": "2.5"}, "quantity", "Enter a whole number of 1 or more."),
        ("offer", {"quantity": ""}, "quantity", "Fill this in."),
        ("offer", {"category": "unicorn-horns"}, "category", "Choose a category from the list."),
        ("offer", {"lat": "95"}, "lat", "Enter a latitude between -90 and 90."),
        ("offer", {"lon": "-200"}, "lon", "Enter a longitude between -180 and 180."),
        ("offer", {"languages": "es"}, "languages", "This only applies to staff time."),
        ("request", {"expires_on": future(3)}, "expires_on", "A lot expiry only applies"),
        ("request", {"need_by": "2020-01-01"}, "need_by", "Choose today or a later date."),
        (
            "request",
            {"category": "registered-nurse", "windows": "2027-01-05 17:00 to 09:00"},
            "windows",
            "the end must be after the start",
        ),
        (
            "request",
            {"category": "registered-nurse", "windows": "next tuesday"},
            "windows",
            "START to END",
        ),
    ],
)
def test_invalid_forms_are_reshown_with_the_message_on_the_field(
    world, as_role, direction, fields, field, message
):
    data = _offer_form(**fields)
    if direction == "request":
        data.pop("expires_on")
        data.update(urgency="high", **fields)
    before = counts()
    response = as_role("member").post(f"/listings/new?direction={direction}", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    errors_block = page.split(f'id="{field}-errors"', 1)
    assert len(errors_block) == 2, f"no errors shown on {field}"
    assert message in errors_block[1].split("</ul>", 1)[0]
    assert counts() == before


def test_csrf_is_required_on_forms(world, as_role, csrf_on):
    response = as_role("member").post("/listings/new?direction=offer", data=_offer_form())
    assert response.status_code == 400
    assert counts()["listings"] == 0


def test_coordinator_posts_for_a_chosen_organization(world, as_role):
    data = _offer_form(org="other-org")
    assert as_role("coordinator").post("/listings/new", data=data).status_code == 302
    assert db.session.scalar(sa.select(Listing)).organization_id == world.other_org.id
    missing = as_role("coordinator").post("/listings/new", data=_offer_form(org="nowhere"))
    assert missing.status_code == 422
    assert counts()["listings"] == 1


def test_quick_post_defaults_the_rest(world, as_role):
    client = as_role("member")
    page = client.get("/listings/quick").get_data(as_text=True)
    assert page.count("<select") == 3 and 'name="quantity"' in page
    response = client.post(
        "/listings/quick",
        data={
            "direction": "request",
            "category": "fentanyl-test-strips",
            "quantity": "300",
            "urgency": "critical",
        },
    )
    assert response.status_code == 302
    listing = db.session.scalar(sa.select(Listing))
    assert (listing.direction.value, listing.urgency.value, listing.quantity) == (
        "request",
        "critical",
        300,
    )
    assert (listing.lat, listing.max_distance_km) == (world.owner_org.lat, 30)
    staffing = client.post(
        "/listings/quick", data={"direction": "offer", "category": "driver", "quantity": "8"}
    )
    assert staffing.status_code == 302
    assert len(db.session.scalars(sa.select(Listing)).all()[-1].windows) == 1
    bad = client.post(
        "/listings/quick", data={"direction": "offer", "category": "driver", "quantity": "-1"}
    )
    assert bad.status_code == 422
    assert counts()["listings"] == 2


def test_edit_changes_only_what_changed_and_respects_reservations(world, as_role):
    listing = post(world.owner_org, "offer", notes="first lot")
    reserve(listing, 50)
    client = as_role("member")
    form = client.get(f"/listings/{listing.id}/edit").get_data(as_text=True)
    assert 'value="120"' in form and "first lot" in form

    data = _offer_form(quantity="40", notes="first lot")
    too_low = client.post(f"/listings/{listing.id}/edit", data=data)
    assert too_low.status_code == 422
    assert "that much is reserved" in too_low.get_data(as_text=True)
    assert event_types() == ["offer.posted"]

    ok = client.post(
        f"/listings/{listing.id}/edit", data=_offer_form(quantity="80", notes="first lot")
    )
    assert ok.status_code == 302
    db.session.refresh(listing)
    assert (listing.quantity, listing.version, listing.status.value) == (80, 2, "partly_matched")
    event = event_types()
    assert event == ["offer.posted", "offer.updated"]
    detail = client.get(f"/listings/{listing.id}").get_data(as_text=True)
    assert "History" in detail and "updated" in detail


def test_withdraw_keeps_history_and_blocks_edits(world, as_role):
    listing = post(world.owner_org, "offer")
    client = as_role("admin")
    assert client.post(f"/listings/{listing.id}/withdraw").status_code == 302
    assert db.session.get(Listing, listing.id).status.value == "withdrawn"
    assert client.get(f"/listings/{listing.id}/edit").status_code == 409
    assert client.post(f"/listings/{listing.id}/withdraw").status_code == 409
    assert event_types() == ["offer.posted", "offer.withdrawn"]


# ---------------------------------------------------------------- browse, search, export


def test_browse_filters_search_and_distance(world, as_role):
    near = post(world.owner_org, "offer", notes="state program lot")
    far = post(world.other_org, "request", urgency="critical")
    withdrawn = post(world.other_org, "offer", notes="gone")
    from coalition.services.listings import withdraw_listing

    withdraw_listing(db.session, None, withdrawn)
    db.session.commit()
    client = as_role("member")

    def shown(query):
        page = client.get(f"/listings/?{query}").get_data(as_text=True)
        return {lid for lid in (near.id, far.id, withdrawn.id) if f'/listings/{lid}"' in page}

    assert shown("") == {near.id, far.id}
    assert shown("status=all") == {near.id, far.id, withdrawn.id}
    assert shown("direction=request") == {far.id}
    assert shown("urgency=critical") == {far.id}
    assert shown("org=owner-org") == {near.id}
    assert shown("q=state+program") == {near.id}
    assert shown("q=other+outreach") == set()  # others' listings are not found by name
    assert shown("within_km=5") == {near.id}
    assert shown("within_km=50") == {near.id, far.id}
    assert shown("direction=sideways") == {near.id, far.id}


def test_export_uses_the_same_filters(world, as_role):
    post(world.owner_org, "offer")
    post(world.other_org, "request")
    response = as_role("member").get("/listings/export.csv?direction=request")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["direction"], r["org"]) for r in rows] == [("request", "")]  # no name (discretion)


def test_export_hides_coordinator_only_listings_from_other_members(world, as_role):
    post(world.owner_org, "offer", visibility="coordinators")
    body = as_role("other_member").get("/listings/export.csv?status=all").get_data(as_text=True)
    assert len(body.strip().splitlines()) == 1
    body = as_role("coordinator").get("/listings/export.csv?status=all").get_data(as_text=True)
    assert len(body.strip().splitlines()) == 2


# ---------------------------------------------------------------- import page


def _upload(text):
    return {"file": (io.BytesIO(text.encode()), "inventory.csv")}


def test_import_page_all_or_nothing(world, as_role):
    client = as_role("admin")
    bad = client.post(
        "/listings/import",
        data=_upload("category,quantity\nnaloxone-nasal-4mg,10\nnaloxone-nasal-4mg,zero\n"),
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422
    assert "row 3: quantity: must be a positive integer" in bad.get_data(as_text=True)
    assert counts()["listings"] == counts()["outbox"] == 0

    good = client.post(
        "/listings/import",
        data=_upload(
            f"category,quantity,expires_on\nnaloxone-nasal-4mg,10,{future(90)}\nhygiene-kit,50,\n"
        ),
        content_type="multipart/form-data",
    )
    assert good.status_code == 302
    assert counts()["listings"] == counts()["outbox"] == 2
    assert {row.organization_id for row in db.session.scalars(sa.select(Listing))} == {
        world.owner_org.id
    }


def test_coordinator_imports_for_a_chosen_organization(world, as_role):
    response = as_role("coordinator").post(
        "/listings/import",
        data={"org": "other-org", **_upload("category,quantity\ncondoms,500\n")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert db.session.scalar(sa.select(Listing)).organization_id == world.other_org.id


def test_a_coordinator_importing_without_choosing_an_organization_is_told_so(world, as_role):
    response = as_role("coordinator").post(
        "/listings/import",
        data={"org": "", **_upload("category,quantity\ncondoms,500\n")},
        content_type="multipart/form-data",
        headers={"Accept-Language": "es"},
    )
    assert response.status_code == 422
    assert "Elija la organización." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Listing)) == 0
