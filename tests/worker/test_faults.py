"""The fault tests of issue #4: each asserts that nothing is lost and nothing is done twice.

They run on filesystem:// and, in the server leg, on RabbitMQ (the `bus` fixture). A TCP
proxy cuts RabbitMQ (and PostgreSQL) off; on filesystem:// the message folder goes away.
Worker processes are real subprocesses where a test kills one.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

import pytest
import sqlalchemy as sa

from coalition.events.envelope import Event, to_envelope
from coalition.events.relay import relay_once, relay_publisher
from coalition.extensions import db
from coalition.models.base import utcnow
from coalition.models.events import DeadLetter, HandlerAttempt, InboxMessage, OutboxEvent
from tests.listings_support import SUPPLY_OFFER, make_world, token_for
from tests.worker.support import (
    Proxy,
    effect_counts,
    effects_table,
    queue_depth,
    recorder,
    scalar,
    spawn,
    wait_for,
)
from worker.processing import Outcome, RetryPolicy, process
from worker.routing import routes_of

TABLE = effects_table()


def exactly_once(event_ids: list[str]) -> bool:
    """Every event left exactly one effect, and nothing else left one."""
    return effect_counts("effects") == Counter({event_id: 1 for event_id in event_ids})


def handled() -> int:
    return len(effect_counts("effects"))


def publish_all(bus: Any) -> None:
    """Relay every recorded event now."""
    publisher = relay_publisher(bus.config, routes_of(TABLE))
    try:
        while relay_once(db.session, publisher, bus.config):
            pass
    finally:
        publisher.close()


# ---------------------------------------------------------------- 1. broker down while posting


def test_1_posts_answer_201_while_the_broker_is_down_and_are_delivered_later(bus, client):
    bus.use({"effects": {t: [recorder("effects")] for t in ("offer.posted", "request.posted")}})
    bus.config["EVENTS_NUDGE"] = True
    token = token_for(make_world().owner_org)
    bus.cut()
    for _ in range(5):
        response = client.post(
            "/api/v1/offers", json=SUPPLY_OFFER, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 201, response.json
    ids = list(
        db.session.scalars(
            sa.select(OutboxEvent.event_id).where(OutboxEvent.published_at.is_(None))
        )
    )
    assert len(ids) == 5
    bus.start(bus.tables[-1])
    time.sleep(0.3)  # the relay and the consumer meet a dead broker first
    bus.restore()
    wait_for(lambda: handled() == 5, timeout=60)
    assert exactly_once(ids)
    assert (
        scalar(
            sa.select(sa.func.count())
            .select_from(OutboxEvent)
            .where(OutboxEvent.published_at.is_(None))
        )
        == 0
    )


# ---------------------------------------------------------------- 2. connection dropped mid-stream


@pytest.mark.slow
def test_2_connection_dropped_in_the_middle_of_1000_events(bus):
    ids = bus.record(1000)
    bus.start(TABLE)
    wait_for(lambda: handled() >= 250, timeout=60)
    bus.cut()
    time.sleep(1.0)
    bus.restore()
    wait_for(lambda: handled() == 1000, timeout=120)
    assert exactly_once(ids)
    assert scalar(sa.select(sa.func.count()).select_from(InboxMessage)) == 1000


# ---------------------------------------------------------------- 3. SIGKILL mid-message


@pytest.mark.slow
@pytest.mark.parametrize("moment", ["before-commit", "after-commit"])
def test_3_worker_killed_mid_message_leaves_exactly_one_effect(bus, tmp_path, workers, moment):
    ids = bus.record(5)
    publish_all(bus)
    doomed = spawn(workers, bus, tmp_path, f"block-{moment}", "consume")
    wait_for(lambda: doomed.reached(moment), timeout=60)
    doomed.kill()
    # after the commit the whole batch in hand is done (and not acknowledged); before, nothing
    assert handled() >= 1 if moment == "after-commit" else handled() == 0
    # RabbitMQ redelivers what the killed worker did not acknowledge; filesystem:// deleted
    # it on delivery, so there the sweeper re-publishes what the inbox says was not handled
    parts = "consume" if bus.kind == "rabbitmq" else "consume,schedule"
    survivor = spawn(
        workers, bus, tmp_path, "normal", parts, EVENTS_SWEEP_AGE=1, EVENTS_SWEEP_INTERVAL=0.5
    )
    wait_for(lambda: handled() == 5, timeout=60)
    assert survivor.terminate() == 0
    assert exactly_once(ids)


@pytest.mark.slow
def test_3_a_restarted_worker_takes_back_what_a_killed_one_held_without_the_sweeper(
    bus, tmp_path, workers
):
    """Issue 11: after a SIGKILL on the defaults, in-flight messages waited for the sweeper
    (EVENTS_SWEEP_AGE, 300 s). A consumer starting again re-publishes them itself; here the
    sweeper is held off for an hour and the schedule does not even run."""
    ids = bus.record(5)
    publish_all(bus)
    doomed = spawn(workers, bus, tmp_path, "block-before-commit", "consume")
    wait_for(lambda: doomed.reached("before-commit"), timeout=60)
    doomed.kill()
    assert handled() == 0
    survivor = spawn(workers, bus, tmp_path, "normal", "consume", EVENTS_SWEEP_AGE=3600)
    wait_for(lambda: handled() == 5, timeout=60)
    assert survivor.terminate() == 0
    assert exactly_once(ids)


# ---------------------------------------------------------------- 4. the same message twice


def test_4_the_same_message_delivered_twice_has_one_effect(bus):
    bus.use(TABLE)
    [event_id] = bus.record(1)
    publish_all(bus)
    payload = db.session.scalar(sa.select(OutboxEvent.payload))
    publisher = relay_publisher(bus.config, routes_of(TABLE))
    try:
        publisher.publish([publisher.to_group(payload, "effects")] * 2)
    finally:
        publisher.close()
    assert queue_depth(bus.config, TABLE, "effects") == 3
    bus.start(TABLE, parts=("consume",))
    wait_for(lambda: scalar(sa.select(sa.func.count()).select_from(InboxMessage)) == 1)
    wait_for(lambda: queue_depth(bus.config, TABLE, "effects") == 0)
    assert exactly_once([event_id])


def test_4_two_deliveries_handled_at_the_same_time_have_one_effect(app):
    from tests.worker.support import create_effects

    create_effects()
    body = to_envelope(Event(type="offer.posted", data={"id": 1}, actor="test"))
    inside = threading.Barrier(2, timeout=5)

    def slow(session, event):
        session.execute(sa.text("SELECT 1"))
        time.sleep(0.3)  # the second delivery arrives while the first is still in its handler

    table = {"effects": {"offer.posted": [recorder("effects"), slow]}}
    outcomes = []

    def deliver():
        with app.app_context():
            inside.wait()
            outcomes.append(process(db.session, "effects", body, table, RetryPolicy()).outcome)
            db.session.remove()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert Outcome.DONE in outcomes
    assert exactly_once([body["id"]])


# ---------------------------------------------------------------- 5. a poison message


def test_5_a_poison_message_is_dead_lettered_and_the_rest_flow_on(bus, app):
    def handler(session, event):
        if event.data["id"] == "poison":
            raise ValueError("cannot handle this one")
        recorder("effects")(session, event)

    table = bus.use({"effects": {"offer.posted": [handler]}})
    bus.config.update(EVENTS_MAX_ATTEMPTS=3, EVENTS_RETRY_BASE=3600, EVENTS_RETRY_MAX=3600)
    from coalition.events.outbox import emit

    poison = emit(db.session, "offer.posted", {"id": "poison"}, "test").event_id
    db.session.commit()
    ids = bus.record(10)
    bus.start(table)
    wait_for(lambda: handled() == 10)  # the messages behind the poison flow while it waits
    assert attempts_of(poison) == 1
    for attempt in (2, 3):  # make the backoff pass, twice: the third attempt is the last
        db.session.execute(sa.update(HandlerAttempt).values(next_attempt_at=utcnow()))
        db.session.commit()
        if attempt == 2:
            wait_for(lambda: attempts_of(poison) == 2)
    wait_for(lambda: scalar(sa.select(sa.func.count()).select_from(DeadLetter)) == 1)
    assert attempts_of(poison) is None
    assert exactly_once(ids)
    letter = db.session.scalars(sa.select(DeadLetter)).one()
    assert (letter.event_id, letter.attempts) == (poison, 3)
    output = app.test_cli_runner().invoke(args=["events", "status"]).output
    assert f"dead #{letter.id} offer.posted {poison} in effects after 3 attempts" in output
    assert "ValueError: cannot handle this one" in output


def attempts_of(event_id: str) -> int | None:
    """The failed attempts counted for an event, None once it has no retry pending."""
    return scalar(sa.select(HandlerAttempt.attempts).where(HandlerAttempt.event_id == event_id))


# ---------------------------------------------------------------- 6. the database goes away


@pytest.mark.slow
@pytest.mark.postgres
def test_6_the_database_unreachable_under_a_handler(bus, app, tmp_path, workers):
    url = sa.engine.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "postgresql":
        pytest.skip("needs a database server to cut off (TEST_DATABASE_URL)")
    proxy = Proxy(url.host or "127.0.0.1", url.port or 5432)
    try:
        ids = bus.record(150)
        worker = spawn(
            workers,
            bus,
            tmp_path,
            "slow",
            "consume,relay",
            DATABASE_URL=proxy.url_for(app.config["SQLALCHEMY_DATABASE_URI"]),
        )
        wait_for(lambda: handled() >= 30, timeout=60)
        proxy.cut()
        settled = handled()
        time.sleep(3.0)
        assert handled() == settled  # nothing can commit while the database is away
        proxy.restore()
        wait_for(lambda: handled() == 150, timeout=120)
        assert exactly_once(ids)
        assert worker.terminate() == 0
    finally:
        proxy.close()


# ---------------------------------------------------------------- 7. two workers, two relays


@pytest.mark.slow
def test_7_two_workers_and_two_relays_handle_every_event_once(bus, tmp_path, workers):
    ids = bus.record(300)
    first = spawn(workers, bus, tmp_path, "normal", "consume,relay")
    second = spawn(workers, bus, tmp_path, "normal", "consume,relay")
    wait_for(lambda: handled() == 300, timeout=120)
    assert first.terminate() == 0 and second.terminate() == 0
    assert exactly_once(ids)
    attempts = db.session.scalars(sa.select(OutboxEvent.attempts)).all()
    assert attempts == [1] * 300  # each row claimed and published by one relay only
