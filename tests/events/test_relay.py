"""The relay: claims in batches, publishes persistent messages, stamps, survives a dead broker."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from coalition.events.relay import (
    RelayError,
    claim_batch,
    publish_due_retries,
    relay_grace,
    relay_once,
    relay_publisher,
)
from coalition.extensions import db
from coalition.models.base import utcnow
from coalition.models.events import HandlerAttempt, OutboxEvent
from tests.worker.support import effect_counts, effects_table, queue_depth, scalar, wait_for
from worker.routing import routes_of

TABLE = effects_table()


def unpublished() -> int:
    return scalar(
        sa.select(sa.func.count())
        .select_from(OutboxEvent)
        .where(OutboxEvent.published_at.is_(None))
    )


def test_relay_publishes_a_batch_and_stamps_it(bus):
    bus.use(TABLE)
    ids = bus.record(5)
    publisher = relay_publisher(bus.config, routes_of(TABLE))
    try:
        assert relay_once(db.session, publisher, bus.config) == 5
    finally:
        publisher.close()
    rows = db.session.scalars(sa.select(OutboxEvent).order_by(OutboxEvent.id)).all()
    assert [r.event_id for r in rows] == ids
    assert all(r.published_at and r.attempts == 1 and r.claimed_by is None for r in rows)
    bus.start(TABLE, parts=("consume",))
    wait_for(lambda: len(effect_counts()) == 5)
    assert effect_counts() == {event_id: 1 for event_id in ids}


def test_batches_are_bounded(fs_bus):
    fs_bus.config["EVENTS_RELAY_BATCH"] = 3
    fs_bus.use(TABLE)
    fs_bus.record(7)
    publisher = relay_publisher(fs_bus.config, routes_of(TABLE))
    try:
        assert [relay_once(db.session, publisher, fs_bus.config) for _ in range(4)] == [3, 3, 1, 0]
    finally:
        publisher.close()


def test_the_relay_waits_out_the_nudge_only_when_the_nudge_is_on():
    assert relay_grace({"EVENTS_NUDGE": True, "EVENTS_RELAY_GRACE": 2.0}) == 2.0
    assert relay_grace({"EVENTS_NUDGE": False, "EVENTS_RELAY_GRACE": 2.0}) == 0.0


def test_rows_younger_than_the_grace_are_not_claimed(fs_bus):
    fs_bus.record(2)
    recent = claim_batch(
        db.session, limit=10, older_than=utcnow() - timedelta(seconds=60), claim_for=30
    )
    assert recent == []
    assert len(claim_batch(db.session, limit=10, older_than=utcnow(), claim_for=30)) == 2


def test_a_claimed_row_is_not_claimed_twice_until_the_claim_expires(fs_bus):
    fs_bus.record(3)
    first = claim_batch(db.session, limit=10, older_than=utcnow(), claim_for=30)
    second = claim_batch(db.session, limit=10, older_than=utcnow(), claim_for=30)
    assert len(first) == 3 and second == []
    db.session.execute(sa.update(OutboxEvent).values(claimed_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert len(claim_batch(db.session, limit=10, older_than=utcnow(), claim_for=30)) == 3


def test_concurrent_claims_split_the_rows(fs_bus, app):
    fs_bus.record(200)
    claimed: list[list[int]] = []

    def claim_all():
        mine = []
        with app.app_context():
            while rows := claim_batch(db.session, limit=7, older_than=utcnow(), claim_for=30):
                mine += [r.id for r in rows]
                db.session.execute(
                    sa.update(OutboxEvent)
                    .where(OutboxEvent.id.in_([r.id for r in rows]))
                    .values(published_at=utcnow())
                )
                db.session.commit()
            db.session.remove()
        claimed.append(mine)

    threads = [threading.Thread(target=claim_all) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    every = [row_id for mine in claimed for row_id in mine]
    assert len(every) == 200 and len(set(every)) == 200


def test_a_dead_broker_leaves_rows_unpublished_with_the_error(bus):
    bus.use(TABLE)
    bus.record(3)
    bus.cut()
    publisher = relay_publisher(bus.config, routes_of(TABLE))
    try:
        with pytest.raises(RelayError):
            relay_once(db.session, publisher, bus.config)
        db.session.expire_all()
        rows = db.session.scalars(sa.select(OutboxEvent)).all()
        assert all(r.published_at is None and r.claimed_by is None for r in rows)
        assert rows[0].attempts == 1 and rows[0].last_error
        bus.restore()
        assert relay_once(db.session, publisher, bus.config) == 3
    finally:
        publisher.close()
    assert unpublished() == 0


def test_due_retries_are_published_to_their_group_only(bus):
    table = {**TABLE, "other": {"offer.posted": [lambda s, e: None]}}
    bus.use(table)
    now = utcnow()
    envelope = {
        "id": "6c1f0a56-0000-4000-8000-000000000001",
        "type": "offer.posted",
        "version": 1,
        "occurred_at": now.isoformat(),
        "actor": None,
        "data": {"id": 1},
    }
    db.session.add(
        HandlerAttempt(
            event_id=envelope["id"],
            handler_group="effects",
            event_type="offer.posted",
            payload=envelope,
            attempts=1,
            last_error="x",
            next_attempt_at=now,
        )
    )
    db.session.add(
        HandlerAttempt(
            event_id="6c1f0a56-0000-4000-8000-000000000002",
            handler_group="effects",
            event_type="offer.posted",
            payload=envelope,
            attempts=1,
            last_error="x",
            next_attempt_at=now + timedelta(hours=1),
        )
    )
    db.session.commit()
    publisher = relay_publisher(bus.config, routes_of(table))
    try:
        assert publish_due_retries(db.session, publisher, bus.config) == 1
        assert publish_due_retries(db.session, publisher, bus.config) == 0  # claimed: not twice
    finally:
        publisher.close()
    assert queue_depth(bus.config, table, "effects") == 1
    assert queue_depth(bus.config, table, "other") == 0
