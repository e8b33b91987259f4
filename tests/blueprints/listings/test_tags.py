"""Program and funder tags given with a listing, in the form and the API (the impact figures
they filter are tested in tests/impact)."""

from __future__ import annotations

import sqlalchemy as sa

from coalition.extensions import db
from coalition.models import Listing
from coalition.services import impact
from tests.listings_support import SUPPLY_OFFER, future, send_csrf


def _offer_form(**fields):
    return {"category": "naloxone-nasal-4mg", "quantity": "120", "expires_on": future(45),
            "visibility": "coalition", **fields}  # fmt: skip


def test_the_api_takes_tags_and_shows_them_to_their_organization_only(world, as_role):
    member = send_csrf(as_role("member"))
    body = {**SUPPLY_OFFER, "tags": [" County  grant", "Foundation X", "County grant"]}
    created = member.post("/api/v1/offers", json=body)
    assert created.status_code == 201, created.json
    assert created.json["tags"] == ["County grant", "Foundation X"]
    url = f"/api/v1/offers/{created.json['id']}"
    changed = member.patch(url, json={"tags": ["State settlement"]})
    assert changed.status_code == 200 and changed.json["tags"] == ["State settlement"]
    assert member.get(url).json["tags"] == ["State settlement"]
    assert as_role("coordinator").get(url).json["tags"] == ["State settlement"]
    assert as_role("other_member").get(url).json["tags"] is None
    untouched = member.patch(url, json={"notes": "second lot"})
    assert untouched.json["tags"] == ["State settlement"]
    assert member.patch(url, json={"tags": []}).json["tags"] == []


def test_the_api_refuses_a_tag_too_long(world, as_role):
    member = send_csrf(as_role("member"))
    response = member.post("/api/v1/offers", json={**SUPPLY_OFFER, "tags": ["x" * 61]})
    assert response.status_code == 422
    assert "each tag may have at most 60 characters" in str(response.json["errors"]["tags"])
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Listing)) == 0


def test_the_form_posts_and_edits_tags(world, as_role):
    client = as_role("member")
    response = client.post(
        "/listings/new?direction=offer", data=_offer_form(tags="County grant; Foundation X")
    )
    assert response.status_code == 302
    listing = db.session.scalar(sa.select(Listing))
    assert impact.listing_tags(db.session, listing.id) == ["County grant", "Foundation X"]
    form = client.get(f"/listings/{listing.id}/edit").get_data(as_text=True)
    assert 'value="County grant; Foundation X"' in form
    edited = client.post(f"/listings/{listing.id}/edit", data=_offer_form(tags="Foundation X"))
    assert edited.status_code == 302
    assert impact.listing_tags(db.session, listing.id) == ["Foundation X"]
    cleared = client.post(f"/listings/{listing.id}/edit", data=_offer_form(tags=""))
    assert cleared.status_code == 302 and impact.listing_tags(db.session, listing.id) == []


def test_the_form_reshows_a_tag_too_long_in_spanish(world, as_role):
    client = as_role("member")
    client.set_cookie("locale", "es")
    response = client.post(
        "/listings/new?direction=offer&lang=es", data=_offer_form(tags="x" * 61),
        headers={"Accept-Language": "es"},
    )  # fmt: skip
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "cada etiqueta puede tener como máximo 60 caracteres" in page
    assert "Programas y financiadores" in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Listing)) == 0
