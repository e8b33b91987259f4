"""Finding 9 of issue 11: bad input gets a 4xx with a reason, never a server error."""

from __future__ import annotations

import pytest

from coalition.extensions import db
from coalition.request_guard import MAX_JSON_DEPTH, json_depth, too_large
from coalition.services import accounts
from tests.factories import ListingFactory, OrgAdminFactory
from tests.listings_support import SUPPLY_OFFER

HUGE = "71133187022746591232"


@pytest.fixture
def admin():
    return OrgAdminFactory()


@pytest.fixture
def bearer(admin):
    _, token = accounts.issue_api_token(db.session, admin, org=admin.organization)
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def test_json_nested_a_thousand_deep_is_refused_with_a_reason(client, bearer):
    body = "[" * 1000 + "]" * 1000
    response = client.post(
        "/api/v1/offers", data=body, content_type="application/json", headers=bearer
    )
    assert response.status_code == 422
    assert "nest" in response.json["errors"]["_schema"][0]


def test_depth_counts_brackets_outside_strings_only():
    assert json_depth(b'{"a": [1, {"b": "[[[[\\"]]"}]}') == 3
    assert json_depth(b'"[[[["') == 0
    assert json_depth(b"[" * (MAX_JSON_DEPTH + 1)) == MAX_JSON_DEPTH + 1


def test_integers_no_column_holds_are_named():
    assert too_large({"quantity": 10**30}) == "quantity"
    assert too_large({"windows": [{"n": 1}, {"n": -(2**40)}]}) == "windows.1.n"
    assert too_large({"quantity": 12, "remote_ok": True}) is None


@pytest.mark.parametrize("query", [f"page={HUGE}", f"page_size={HUGE}", "page=-99999999999999"])
def test_huge_page_numbers_are_refused_on_their_field(client, bearer, query):
    response = client.get(f"/api/v1/offers?{query}", headers=bearer)
    assert response.status_code == 422
    assert set(response.json["errors"]) == {query.split("=")[0]}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", f"/api/v1/matches/{HUGE}"),
        ("post", f"/api/v1/matches/{HUGE}/receive"),
        ("post", f"/api/v1/matches/{HUGE}/accept"),
        ("get", f"/api/v1/offers/{HUGE}"),
        ("patch", f"/api/v1/requests/{HUGE}"),
        ("delete", f"/api/v1/offers/{2**31}"),
    ],
)
def test_ids_no_column_holds_are_not_found(client, bearer, method, path):
    response = getattr(client, method)(path, headers=bearer, json={})
    assert response.status_code == 404


def test_huge_ids_on_pages_are_not_found(login, admin):
    assert login(admin).get(f"/listings/{HUGE}").status_code == 404


def test_a_huge_number_in_a_body_is_refused_on_its_field(client, bearer):
    response = client.post(
        "/api/v1/offers", json={**SUPPLY_OFFER, "quantity": 10**30}, headers=bearer
    )
    assert response.status_code == 422 and "quantity" in response.json["errors"]


@pytest.mark.parametrize("field", ["lat", "lon", "max_distance_km"])
def test_patching_a_location_field_to_null_is_refused(client, bearer, admin, field):
    listing = ListingFactory(organization=admin.organization)
    db.session.commit()
    response = client.patch(f"/api/v1/offers/{listing.id}", json={field: None}, headers=bearer)
    assert response.status_code == 422
    assert field in response.json["errors"]


@pytest.mark.parametrize("value", ["6³", "\x1c6³", "1 2", "²"])
def test_query_numbers_that_are_not_ascii_digits_are_a_422_not_a_crash(client, bearer, value):
    response = client.get("/api/v1/requests", query_string={"page": value}, headers=bearer)
    assert response.status_code == 422
    assert response.json["errors"]
