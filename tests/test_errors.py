"""A `ServiceError` a view lets through becomes one answer: its status and message, as JSON
under /api/ (with the messages by field) or as a page, and nothing it flushed is kept."""

from __future__ import annotations

import pytest

from coalition.errors import handle_service_error
from coalition.extensions import db
from coalition.models.catalog import Category, Kind
from coalition.models.organizations import OrgStatus
from coalition.services.errors import ServiceError
from coalition.services.listings import ListingInvalid
from tests.conftest import count
from tests.factories import CoordinatorFactory, OrganizationFactory
from tests.listings_support import SUPPLY_OFFER, token_for

pytestmark = pytest.mark.usefixtures("app")


def _flush_a_category() -> None:
    """Write something the failed use case would have left behind."""
    db.session.add(
        Category(
            slug="left-behind", kind=Kind.SUPPLY, unit="box", plain_label="x", neutral_label="x"
        )
    )
    db.session.flush()


def test_under_api_it_is_json_with_the_field_message_and_nothing_is_kept(app):
    before = count(Category)
    with app.test_request_context("/api/v1/offers", method="POST"):
        _flush_a_category()
        response = handle_service_error(ServiceError("That slug is taken.", "slug", 409))
    assert response.status_code == 409
    assert response.json == {
        "code": 409,
        "message": "That slug is taken.",
        "errors": {"slug": ["That slug is taken."]},
    }
    assert count(Category) == before


def test_an_error_with_several_fields_lists_each_of_them(app):
    with app.test_request_context("/api/v1/offers", method="POST"):
        response = handle_service_error(ListingInvalid({"lat": ["a"], "lon": ["b"]}))
    assert response.status_code == 422
    assert response.json["errors"] == {"lat": ["a"], "lon": ["b"]}


def test_on_the_web_it_is_the_error_page_with_the_message(app):
    before = count(Category)
    with app.test_request_context("/listings/1"):
        _flush_a_category()
        page, status = handle_service_error(ServiceError("No such listing.", status=404))
    assert status == 404
    assert "<h1>Not found</h1>" in page and "No such listing." in page
    assert count(Category) == before


def test_a_refused_change_on_a_page_shows_the_services_reason(login):
    org = OrganizationFactory(status=OrgStatus.ACTIVE)
    response = login(CoordinatorFactory()).post(f"/coordinator/organizations/{org.id}/reactivate")
    assert response.status_code == 409
    assert b"Already changed" in response.data and b"already active" in response.data


def test_a_refused_change_over_the_api_names_the_field(client):
    org = OrganizationFactory()
    response = client.post(
        "/api/v1/offers",
        json={**SUPPLY_OFFER, "org": "no-such-org"},
        headers={"Authorization": f"Bearer {token_for(org)}"},
    )
    assert response.status_code == 422
    assert response.json == {
        "code": 422,
        "message": "Some fields are not valid.",
        "errors": {"org": ["unknown organization"]},
    }
