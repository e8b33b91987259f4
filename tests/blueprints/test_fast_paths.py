"""The API's fast paths give what the slow ones gave: compiled dumps, orjson, one-query pages,
and a read that writes nothing (a token's use recorded at most once a minute)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from marshmallow import Schema, fields

from coalition.blueprints.listings.schemas import OfferSchema, RequestSchema
from coalition.extensions import db
from coalition.fast_dump import FastDumpSchema, compile_plan
from coalition.json_provider import OrjsonProvider
from coalition.models import ApiToken
from tests.listings_support import STAFFING_REQUEST, make_world, post, token_for


def marshmallow_rows(schema: Schema, objs: list[Any]) -> Any:
    """What marshmallow's own field loop makes of the objects."""
    return Schema._serialize(schema, objs, many=True)


def test_compiled_dump_equals_marshmallow_for_every_listing_shape(app):
    world = make_world()
    org = world.owner_org
    listings = [
        post(org, "offer"),
        post(org, "offer", notes="ünïcode ✓", expires_on=None, visibility="coordinators"),
        post(org, "request"),
        post(org, "request", **STAFFING_REQUEST),
        post(org, "request", **{**STAFFING_REQUEST, "remote_ok": True, "languages": []}),
    ]
    listings[0].withdrawn_at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    for schema_class in (OfferSchema, RequestSchema):
        schema = schema_class(many=True)
        assert compile_plan(schema) is not None, "the listing schemas use the compiled plan"
        assert schema._serialize(listings, many=True) == marshmallow_rows(schema, listings)
        single = schema_class()
        assert single._serialize(listings[3]) == Schema._serialize(single, listings[3])


def test_a_field_the_plan_does_not_know_falls_back_to_marshmallow():
    class WithMethod(FastDumpSchema):
        id = fields.Integer()
        twice = fields.Method("_twice")

        def _twice(self, obj: Any) -> int:
            return obj["id"] * 2

    schema = WithMethod()
    assert compile_plan(schema) is None
    assert schema.dump({"id": 2}) == {"id": 2, "twice": 4}


def test_compiled_dump_skips_missing_attributes_like_marshmallow():
    class Small(FastDumpSchema):
        a = fields.Integer()
        b = fields.String(attribute="inner.name")
        when = fields.Date(allow_none=True)

    class Obj:
        a = "7"
        inner = None
        when = date(2026, 12, 4)

    schema = Small()
    assert schema.dump(Obj()) == Schema._serialize(schema, Obj()) == {"a": 7, "when": "2026-12-04"}


@pytest.mark.parametrize(
    "value",
    [
        {"b": 1, "a": [1, 2.5, None, True], "ü": "ñ", "n": {"z": "x", "y": []}},
        [datetime(2026, 12, 4, 12, 0, tzinfo=UTC), date(2026, 12, 4)],
        {1: "int keys", 2: "sorted"},
    ],
)
def test_orjson_provider_writes_the_same_json_as_flask(app, value):
    ours = OrjsonProvider(app)
    flask_default = app.json_provider_class.__mro__[1](app)
    assert ours.loads(ours.dumps(value)) == flask_default.loads(flask_default.dumps(value))
    assert list(ours.loads(ours.dumps(value))) == list(
        flask_default.loads(flask_default.dumps(value))
    )


def test_orjson_provider_falls_back_for_what_orjson_cannot_write(app):
    assert OrjsonProvider(app).dumps({"big": 2**70}) == '{"big": 1180591620717411303424}'


def test_a_list_page_is_one_query_and_counts_everything(app, client):
    world = make_world()
    for _ in range(5):
        post(world.owner_org, "offer")
    headers = {"Authorization": f"Bearer {token_for(world.other_org)}"}
    client.get("/api/v1/offers?page_size=2", headers=headers)  # the token's first use
    statements: list[str] = []
    sa.event.listen(db.engine, "before_cursor_execute", _record(statements))
    try:
        response = client.get("/api/v1/offers?page_size=2&page=2", headers=headers)
        beyond = client.get("/api/v1/offers?page_size=2&page=9", headers=headers)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", _record(statements))
    assert response.status_code == 200 and len(response.json) == 2
    assert '"total": 5' in response.headers["X-Pagination"]
    assert beyond.status_code == 404 or beyond.json == []
    page_statements = [s for s in statements if "FROM listings" in s]
    assert len(page_statements) == 2 + (beyond.status_code != 404)  # page 2; page 9 and its count
    assert not [s for s in statements if s.lstrip().upper().startswith(("UPDATE", "INSERT"))]


_recorders: dict[int, Any] = {}


def _record(statements: list[str]) -> Any:
    """One listener per list (event.remove needs the same function)."""
    key = id(statements)
    if key not in _recorders:
        _recorders[key] = lambda conn, cursor, statement, *args: statements.append(statement)
    return _recorders[key]


def test_a_token_use_is_recorded_at_most_once_a_minute(app, client):
    world = make_world()
    headers = {"Authorization": f"Bearer {token_for(world.owner_org)}"}
    assert client.get("/api/v1/offers", headers=headers).status_code == 200
    first = db.session.scalar(sa.select(ApiToken.last_used_at))
    assert first is not None, "the first use is recorded, even by a read"
    assert client.get("/api/v1/offers", headers=headers).status_code == 200
    db.session.expire_all()
    assert db.session.scalar(sa.select(ApiToken.last_used_at)) == first
    db.session.execute(sa.update(ApiToken).values(last_used_at=first - timedelta(minutes=2)))
    db.session.commit()
    assert client.get("/api/v1/offers", headers=headers).status_code == 200
    db.session.expire_all()
    assert db.session.scalar(sa.select(ApiToken.last_used_at)) > first


def test_a_page_of_rows_dumps_as_its_listings_do(app, client):
    world = make_world()
    mine = [post(world.owner_org, "offer"), post(world.owner_org, "request", **STAFFING_REQUEST)]
    theirs = [post(world.other_org, "offer", notes="theirs"), post(world.other_org, "request")]
    for org in (world.owner_org, world.other_org):
        headers = {"Authorization": f"Bearer {token_for(org)}"}
        for path in ("offers", "requests"):
            page = client.get(f"/api/v1/{path}", headers=headers).json
            for row in page:
                item = client.get(f"/api/v1/{path}/{row['id']}", headers=headers).json
                item.pop("tags")  # one listing also carries its tags; pages leave them out
                assert row == item, "a page row reads as the listing itself"
            assert {r["id"] for r in page} == {
                listing.id for listing in mine + theirs if listing.direction.value == path[:-1]
            }
