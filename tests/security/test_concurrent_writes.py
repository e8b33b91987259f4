"""Finding 4 of issue 11: 50 simultaneous API writes against a real threaded server all
succeed and nothing is lost; a request never holds two database connections; an exhausted
pool answers 503 with Retry-After at once instead of hanging."""

from __future__ import annotations

import contextvars
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests
import sqlalchemy as sa

from coalition import create_app
from coalition.extensions import db
from coalition.models.events import OutboxEvent
from coalition.models.listings import Direction, Listing
from coalition.services import accounts
from tests.conftest import make_test_config
from tests.factories import OrgAdminFactory
from tests.listings_support import SUPPLY_REQUEST

WRITERS = 50


def org_token() -> str:
    """A bearer token of a new organization."""
    admin = OrgAdminFactory()
    _, token = accounts.issue_api_token(db.session, admin, org=admin.organization)
    db.session.commit()
    return token


def post_together(base: str, token: str, n: int) -> list[tuple[int, float]]:
    """POST n requests at once (released by one barrier); (status, seconds) of each."""
    barrier = threading.Barrier(n)
    headers = {"Authorization": f"Bearer {token}"}

    def post(i: int) -> tuple[int, float]:
        body = {**SUPPLY_REQUEST, "notes": f"writer {i}"}
        with requests.Session() as http:
            barrier.wait()
            started = time.perf_counter()
            response = http.post(f"{base}/api/v1/requests", json=body, headers=headers, timeout=60)
            return response.status_code, time.perf_counter() - started

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(post, range(n)))


def p95(seconds: list[float]) -> float:
    """The 95th percentile."""
    return statistics.quantiles(seconds, n=20)[-1]


def test_fifty_concurrent_writes_all_succeed_and_nothing_is_lost(live_server):
    token = org_token()
    results = post_together(live_server, token, WRITERS)
    statuses = [status for status, _ in results]
    seconds = [elapsed for _, elapsed in results]
    figure = f"{statuses.count(201)} x 201, p95 {p95(seconds):.2f} s, max {max(seconds):.2f} s"
    print(f"{WRITERS} concurrent POST /api/v1/requests on {db.engine.dialect.name}: {figure}")
    assert statuses == [201] * WRITERS
    db.session.expire_all()
    listings = db.session.scalar(
        sa.select(sa.func.count()).where(Listing.direction == Direction.REQUEST)
    )
    events = db.session.scalar(
        sa.select(sa.func.count()).where(OutboxEvent.type == "request.posted")
    )
    assert (listings, events) == (WRITERS, WRITERS)


def test_a_request_uses_one_connection_at_a_time(app, client):
    token = org_token()
    most = peak_checked_out(app, lambda: client.post(
        "/api/v1/requests", json=SUPPLY_REQUEST, headers={"Authorization": f"Bearer {token}"}
    ))  # fmt: skip
    assert most == 1


def peak_checked_out(app: Any, call: Any) -> int:
    """The most connections the engine had checked out at once during `call`."""
    engine = db.engine
    state = {"now": 0, "most": 0}

    def checkout(*_: Any) -> None:
        state["now"] += 1
        state["most"] = max(state["most"], state["now"])

    def checkin(*_: Any) -> None:
        state["now"] -= 1

    db.session.remove()  # the test's own session gives its connection back first
    sa.event.listen(engine, "checkout", checkout)
    sa.event.listen(engine, "checkin", checkin)
    try:
        response = call()
    finally:
        sa.event.remove(engine, "checkout", checkout)
        sa.event.remove(engine, "checkin", checkin)
    assert response.status_code == 201
    return state["most"]


def test_an_exhausted_pool_answers_503_with_retry_after(app, app_tmp):
    token = org_token()
    person = OrgAdminFactory()
    tight = create_app(
        {
            **make_test_config(app_tmp, app.config["SQLALCHEMY_DATABASE_URI"]),
            "DATABASE_POOL_SIZE": 1,
            "DATABASE_MAX_OVERFLOW": 0,
            "DATABASE_POOL_TIMEOUT": 0.2,
        }
    )
    headers = {"Authorization": f"Bearer {token}"}
    browser = tight.test_client()
    with browser.session_transaction() as session:
        session["_user_id"] = person.get_id()
    with tight.app_context():
        held = db.engine.connect()  # the one connection of the pool is busy
        try:
            api = contextvars.Context().run(
                tight.test_client().get, "/api/v1/offers", headers=headers
            )
            page = contextvars.Context().run(browser.get, "/listings/")
        finally:
            held.close()
            db.engine.dispose()
    assert (api.status_code, api.headers["Retry-After"]) == (503, "2")
    assert api.json["code"] == 503
    assert page.status_code == 503 and page.headers["Retry-After"] == "2"
