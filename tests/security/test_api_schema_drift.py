"""The OpenAPI document says what the server does (issue 11, finding 9's schema drift): the
X-Pagination header is a string, /cancel and /decline need no body, and an empty category,
a zero distance, a null site on a change or a page past 32 bits are refused by both."""

from __future__ import annotations

import json

import pytest

from coalition.extensions import db
from coalition.models.listings import Listing
from tests.conftest import count
from tests.listings_support import token_for
from tests.matches_support import make_pair


@pytest.fixture
def doc(client):
    return client.get("/api/v1/openapi.json").json


@pytest.fixture
def pair():
    return make_pair()


@pytest.fixture
def bearer(pair):
    return {"Authorization": f"Bearer {token_for(pair.receiver)}"}


def test_x_pagination_is_documented_as_the_string_it_is(doc, client, bearer):
    header = doc["components"]["headers"]["PAGINATION"]["schema"]
    assert header["type"] == "string" and header["contentMediaType"] == "application/json"
    sent = client.get("/api/v1/requests", headers=bearer).headers["X-Pagination"]
    assert json.loads(sent)["total"] == 1


@pytest.mark.parametrize("action", ["cancel", "decline"])
def test_cancel_and_decline_document_their_body_as_optional(doc, action):
    body = doc["paths"][f"/api/v1/matches/{{match_id}}/{action}"]["post"]["requestBody"]
    assert body["required"] is False


def test_cancel_without_a_body_cancels(client, pair, bearer):
    response = client.post(f"/api/v1/matches/{pair.match.id}/cancel", headers=bearer)
    assert response.status_code == 200, response.json
    assert response.json["state"] == "cancelled"


def test_an_empty_category_is_refused_by_the_document_and_the_server(doc, client, bearer):
    category = doc["components"]["schemas"]["RequestCreate"]["properties"]["category"]
    assert category["minLength"] == 1 and category["pattern"].startswith("^[a-z0-9]")
    before = count(Listing)
    body = {"category": "", "quantity": 5}
    response = client.post("/api/v1/requests", json=body, headers=bearer)
    assert response.status_code == 422
    assert response.json["errors"]["category"] == ["unknown category"]
    assert count(Listing) == before


def test_a_zero_distance_is_refused_by_the_document_and_the_server(doc, client, pair, bearer):
    distance = doc["components"]["schemas"]["RequestUpdate"]["properties"]["max_distance_km"]
    assert distance["exclusiveMinimum"] == 0
    version = pair.request.version
    response = client.patch(
        f"/api/v1/requests/{pair.request.id}", json={"max_distance_km": 0}, headers=bearer
    )
    assert response.status_code == 422
    assert response.json["errors"]["max_distance_km"] == ["must be a positive number of km"]
    db.session.refresh(pair.request)
    assert pair.request.version == version


@pytest.mark.parametrize("name", ["lat", "lon", "max_distance_km"])
def test_a_change_documents_the_site_as_never_null(doc, client, pair, bearer, name):
    assert doc["components"]["schemas"]["RequestUpdate"]["properties"][name]["type"] == "number"
    assert "null" in doc["components"]["schemas"]["RequestCreate"]["properties"][name]["type"]
    url = f"/api/v1/requests/{pair.request.id}"
    response = client.patch(url, json={name: None}, headers=bearer)
    assert (response.status_code, response.json["errors"]) == (422, {name: ["may not be null"]})


def test_a_whole_quantity_written_as_a_float_is_an_integer_as_json_schema_says(
    client, pair, bearer
):
    url = f"/api/v1/requests/{pair.request.id}"
    assert client.patch(url, json={"quantity": 120.0}, headers=bearer).status_code == 200
    assert client.get(url, headers=bearer).json["quantity"] == 120
    refused = client.patch(url, json={"quantity": 2.5}, headers=bearer)
    assert refused.status_code == 422 and "quantity" in refused.json["errors"]


def test_query_integers_are_documented_within_32_bits(doc):
    for item in doc["paths"].values():
        for operation in item.values():
            for param in operation.get("parameters", []) if isinstance(operation, dict) else []:
                schema = param.get("schema", {})
                if param.get("in") == "query" and schema.get("type") == "integer":
                    assert schema["maximum"] <= 2**31 - 1, param
