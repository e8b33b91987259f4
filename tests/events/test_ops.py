"""`/metrics` and the coordinators' events page with its replay button."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from coalition.events import metrics
from coalition.events.envelope import Event
from coalition.events.outbox import record
from coalition.extensions import db
from coalition.models.events import DeadLetter, HandlerAttempt
from tests.factories import CoordinatorFactory, UserFactory
from tests.worker.support import effects_table, queue_depth, relay_retries

TABLE = effects_table()


def dead_letter() -> DeadLetter:
    row = record(db.session, Event(type="offer.posted", data={"id": 7}, actor="test"))
    letter = DeadLetter(
        event_id=row.event_id,
        handler_group="effects",
        event_type=row.type,
        payload=row.payload,
        error="KeyError: 'id'",
        attempts=5,
    )
    db.session.add(letter)
    db.session.commit()
    return letter


def test_metrics_expose_the_backlog_and_timings(fs_bus, client):
    fs_bus.use(TABLE)
    fs_bus.record(3)
    dead_letter()
    metrics.PUBLISH_SECONDS.labels("relay").observe(0.01)
    page = client.get("/metrics")
    assert page.status_code == 200
    assert page.mimetype == "text/plain"
    text = page.get_data(as_text=True)
    assert "coalition_outbox_unpublished 4.0" in text
    assert "coalition_outbox_events 4.0" in text
    assert "coalition_dead_letters 1.0" in text
    assert "coalition_outbox_oldest_unpublished_seconds" in text
    assert 'coalition_event_publish_seconds_bucket{le="0.01",path="relay"}' in text
    assert "coalition_event_handle_seconds" in text


def test_metrics_refuse_remote_scrapers_without_a_token(fs_bus, client):
    page = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert page.status_code == 403


def test_metrics_with_a_token_require_it(fs_bus, client, app):
    app.config["METRICS_TOKEN"] = "s3cret-token"
    try:
        assert client.get("/metrics").status_code == 401
        wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        right = client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
        assert right.status_code == 200
    finally:
        app.config["METRICS_TOKEN"] = ""


def test_a_coordinator_may_read_metrics_from_anywhere(fs_bus, login):
    page = login(CoordinatorFactory()).get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert page.status_code == 200


@pytest.mark.parametrize(("who", "status"), [("anonymous", 302), ("member", 403)])
def test_the_events_page_is_for_coordinators_only(fs_bus, client, login, who, status):
    browser = client if who == "anonymous" else login(UserFactory())
    assert browser.get("/ops/events").status_code == status
    letter = dead_letter()
    assert browser.post(f"/ops/dead-letters/{letter.id}/replay").status_code == status
    db.session.expire_all()
    assert letter.replayed_at is None


def test_coordinators_see_dead_letters_and_the_nav_entry(fs_bus, login):
    fs_bus.use(TABLE)
    letter = dead_letter()
    page = login(CoordinatorFactory()).get("/ops/events")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert letter.event_id in html and "KeyError: &#39;id&#39;" in html
    assert f"/ops/dead-letters/{letter.id}/replay" in html
    assert 'href="/ops/events"' in html


def test_the_replay_button_republishes(bus, login):
    bus.use(TABLE)
    letter = dead_letter()
    browser = login(CoordinatorFactory())
    response = browser.post(f"/ops/dead-letters/{letter.id}/replay", follow_redirects=True)
    assert response.status_code == 200
    assert "Replayed offer.posted" in response.get_data(as_text=True)
    db.session.expire_all()
    assert letter.replayed_at is not None
    assert relay_retries(bus.config, TABLE) == 1
    assert queue_depth(bus.config, TABLE, "effects") == 1
    again = browser.post(f"/ops/dead-letters/{letter.id}/replay")
    assert again.status_code == 409


def test_the_replay_button_with_the_broker_down_queues_the_retry(fs_bus, login):
    fs_bus.use(TABLE)
    letter = dead_letter()
    fs_bus.cut()
    response = login(CoordinatorFactory()).post(
        f"/ops/dead-letters/{letter.id}/replay", follow_redirects=True
    )
    assert "Replayed offer.posted" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(DeadLetter.replayed_at)) is not None
    assert db.session.get(HandlerAttempt, (letter.event_id, "effects")) is not None
    fs_bus.restore()
    assert relay_retries(fs_bus.config, TABLE) == 1


def test_replaying_an_unknown_dead_letter_is_404(fs_bus, login):
    assert login(CoordinatorFactory()).post("/ops/dead-letters/4242/replay").status_code == 404


def test_replay_needs_the_csrf_token(fs_bus, login, csrf_on):
    letter = dead_letter()
    assert (
        login(CoordinatorFactory()).post(f"/ops/dead-letters/{letter.id}/replay").status_code == 400
    )
    db.session.expire_all()
    assert letter.replayed_at is None
