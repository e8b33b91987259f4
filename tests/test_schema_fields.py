"""`enum_field`: one of an enum's values in, the member out, a plain message otherwise."""

from __future__ import annotations

import pytest
from marshmallow import Schema, ValidationError

from coalition.models.listings import Urgency
from coalition.schema_fields import enum_field
from tests.factories import OrganizationFactory
from tests.listings_support import token_for


class UrgencySchema(Schema):
    urgency = enum_field(Urgency)


def test_a_value_loads_as_the_member():
    assert UrgencySchema().load({"urgency": "high"}) == {"urgency": Urgency.HIGH}


@pytest.mark.parametrize("value", ["urgent", "HIGH", 3, None])
def test_anything_else_names_the_values(value):
    with pytest.raises(ValidationError) as raised:
        UrgencySchema().load({"urgency": value})
    (message,) = raised.value.messages["urgency"]
    if isinstance(value, str):
        assert message == "must be one of: critical, high, normal, low"


def test_the_api_refuses_an_unknown_filter_value_with_that_message(client):

    headers = {"Authorization": f"Bearer {token_for(OrganizationFactory())}"}
    response = client.get("/api/v1/matches?state=lost", headers=headers)
    assert response.status_code == 422
    assert response.json["errors"]["state"] == [
        "must be one of: proposed, approved, accepted, handed_off, fulfilled, rejected, "
        "declined, cancelled, expired"
    ]
