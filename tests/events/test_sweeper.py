"""The outbox sweeper re-publishes what was never published or never handled, and nothing else."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from coalition.events.relay import relay_publisher
from coalition.events.sweeper import sweep_outbox
from coalition.extensions import db
from coalition.models.base import utcnow
from coalition.models.events import DeadLetter, HandlerAttempt, InboxMessage, OutboxEvent
from tests.worker.support import effect_counts, queue_depth, recorder, wait_for
from worker.routing import routes_of

TABLE = {
    "effects": {"offer.posted": [recorder("effects")]},
    "audit": {"offer.posted": [recorder("audit")]},
}


def age(event_ids, seconds, published=True):
    """Make rows look recorded (and published) `seconds` ago."""
    then = utcnow() - timedelta(seconds=seconds)
    db.session.execute(
        sa.update(OutboxEvent)
        .where(OutboxEvent.event_id.in_(event_ids))
        .values(created_at=then, published_at=then if published else None)
    )
    db.session.commit()


def sweep(bus):
    publisher = relay_publisher(bus.config, routes_of(TABLE))
    try:
        result = sweep_outbox(db.session, publisher, routes_of(TABLE), bus.config, utcnow())
        db.session.commit()
        return result
    finally:
        publisher.close()


def test_old_unpublished_rows_are_published(bus):
    bus.config["EVENTS_SWEEP_AGE"] = 60
    old, new = bus.record(1), bus.record(1)
    age(old, 120, published=False)
    result = sweep(bus)
    assert result.published == 1
    assert queue_depth(bus.config, TABLE, "effects") == 1
    assert (
        db.session.scalar(sa.select(OutboxEvent.published_at).where(OutboxEvent.event_id == new[0]))
        is None
    )


def test_old_unprocessed_rows_go_to_the_groups_that_missed_them(bus):
    bus.config["EVENTS_SWEEP_AGE"] = 60
    missed_by_audit, missed_by_both, done, recent, dead, retrying = (
        bus.record(1)[0] for _ in range(6)
    )
    age([missed_by_audit, missed_by_both, done, dead, retrying], 120)
    age([recent], 10)
    db.session.add_all(
        [
            InboxMessage(event_id=missed_by_audit, handler="effects"),
            InboxMessage(event_id=done, handler="effects"),
            InboxMessage(event_id=done, handler="audit"),
            InboxMessage(event_id=dead, handler="audit"),
            DeadLetter(
                event_id=dead,
                handler_group="effects",
                event_type="offer.posted",
                payload={},
                error="x",
                attempts=3,
            ),
            InboxMessage(event_id=retrying, handler="audit"),
            HandlerAttempt(
                event_id=retrying,
                handler_group="effects",
                event_type="offer.posted",
                payload={},
                attempts=1,
                next_attempt_at=utcnow() + timedelta(hours=1),
            ),
        ]
    )
    db.session.commit()
    result = sweep(bus)
    assert result.republished == {"effects": 1, "audit": 2}
    assert queue_depth(bus.config, TABLE, "effects") == 1
    assert queue_depth(bus.config, TABLE, "audit") == 2
    assert sweep(bus).republished == {}  # restamped: the next sweep waits another age
    bus.start(TABLE, parts=("consume",))
    wait_for(lambda: len(effect_counts("audit")) == 2)
    assert effect_counts("audit") == {missed_by_audit: 1, missed_by_both: 1}
    wait_for(lambda: effect_counts("effects") == {missed_by_both: 1})


def test_rows_older_than_the_horizon_are_left_alone(fs_bus):
    fs_bus.config.update(EVENTS_SWEEP_AGE=60, EVENTS_SWEEP_HORIZON=3600)
    ancient = fs_bus.record(1)
    age(ancient, 7200)
    assert sweep(fs_bus).republished == {}
