"""The OpenAPI 3.1 document is valid, and real responses match the schemas it declares."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from tests.listings_support import (
    STAFFING_REQUEST,
    SUPPLY_OFFER,
    SUPPLY_REQUEST,
    make_world,
    post,
    token_for,
)


@pytest.fixture
def doc(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json


def test_document_is_valid_openapi_3_1(doc):
    assert doc["openapi"].startswith("3.1")
    validate(doc)
    for path in (
        "/api/v1/offers",
        "/api/v1/offers/{listing_id}",
        "/api/v1/requests",
        "/api/v1/requests/{listing_id}",
        "/api/v1/categories",
    ):
        assert path in doc["paths"], path
    item = doc["paths"]["/api/v1/offers/{listing_id}"]
    assert set(item) >= {"get", "patch", "delete"}
    params = {p["name"] for p in doc["paths"]["/api/v1/requests"]["get"]["parameters"]}
    assert {"kind", "category", "status", "org", "urgency", "page", "page_size"} <= params


def test_swagger_ui_is_served(client):
    assert client.get("/api/v1/docs").status_code == 200


def _resolve(doc: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow a local `$ref`."""
    while "$ref" in node:
        parts = node["$ref"].lstrip("#/").split("/")
        node = doc
        for part in parts:
            node = node[part]
    return node


def response_validator(doc: dict[str, Any], path: str, method: str, status: int):
    """A JSON Schema validator for one documented response body."""
    responses = doc["paths"][path][method]["responses"]
    documented = responses.get(str(status)) or responses["default"]
    response = _resolve(doc, documented)
    schema = dict(response["content"]["application/json"]["schema"])
    schema["components"] = doc["components"]
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _check(doc, response, path, method):
    """The response's body validates against the schema documented for its status."""
    assert str(response.status_code) in doc["paths"][path][method]["responses"] or (
        response.status_code >= 400
    ), f"{method.upper()} {path} answered an undocumented {response.status_code}"
    validator = response_validator(doc, path, method, response.status_code)
    errors = [e.message for e in validator.iter_errors(response.get_json())]
    assert not errors, (method, path, response.status_code, errors)


def test_real_responses_match_the_document(app, client, doc):
    world = make_world()
    headers = {"Authorization": f"Bearer {token_for(world.owner_org)}"}
    post(world.other_org, "offer")
    calls = []

    def call(method, url, path, **kwargs):
        response = getattr(client, method)(url, headers=headers, **kwargs)
        calls.append(response.status_code)
        _check(doc, response, path, method)
        return response

    offer = call("post", "/api/v1/offers", "/api/v1/offers", json=SUPPLY_OFFER).json
    staffing = call("post", "/api/v1/requests", "/api/v1/requests", json=STAFFING_REQUEST).json
    call("post", "/api/v1/requests", "/api/v1/requests", json=SUPPLY_REQUEST)
    item = "/api/v1/offers/{listing_id}"
    call("get", "/api/v1/offers", "/api/v1/offers")
    call("get", "/api/v1/requests?kind=staffing", "/api/v1/requests")
    call("get", f"/api/v1/offers/{offer['id']}", item)
    call("get", f"/api/v1/requests/{staffing['id']}", "/api/v1/requests/{listing_id}")
    call("patch", f"/api/v1/offers/{offer['id']}", item, json={"quantity": 100})
    call("delete", f"/api/v1/offers/{offer['id']}", item)
    call("get", "/api/v1/categories", "/api/v1/categories")
    # errors are documented too
    call("post", "/api/v1/offers", "/api/v1/offers", json={"quantity": 0})
    call("get", "/api/v1/offers/999999", item)
    call("delete", f"/api/v1/offers/{offer['id']}", item)
    other = post(world.other_org, "offer")
    call("patch", f"/api/v1/offers/{other.id}", item, json={"notes": "mine now"})
    anonymous = client.get("/api/v1/offers")
    _check(doc, anonymous, "/api/v1/offers", "get")

    assert calls == [201, 201, 201, 200, 200, 200, 200, 200, 200, 200, 422, 404, 409, 403]
    assert anonymous.status_code == 401


def test_listing_schema_documents_every_field_it_returns(doc):
    offer = doc["components"]["schemas"]["Offer"]
    request = doc["components"]["schemas"]["Request"]
    assert offer["additionalProperties"] is False
    shared = {
        "id",
        "org",
        "kind",
        "category",
        "quantity",
        "lat",
        "lon",
        "max_distance_km",
        "notes",
        "visibility",
        "status",
        "available",
        "reserved",
        "fulfilled",
        "created_at",
        "updated_at",
        "credentials",
        "languages",
        "remote_ok",
        "windows",
    }
    assert shared | {"expires_on"} <= set(offer["properties"])
    assert shared | {"need_by", "urgency", "accepts_expired"} <= set(request["properties"])
