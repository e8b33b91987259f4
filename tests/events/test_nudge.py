"""The after-commit nudge: committed events go out at once; anything else never does."""

from __future__ import annotations

import sqlalchemy as sa

from coalition.events import extension
from coalition.events.outbox import emit
from coalition.extensions import db
from coalition.models.events import OutboxEvent
from tests.worker.support import effects_table, queue_depth

TABLE = effects_table()


def rows() -> list[OutboxEvent]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(OutboxEvent).order_by(OutboxEvent.id)))


def nudge_on(bus) -> None:
    bus.use(TABLE)
    bus.config["EVENTS_NUDGE"] = True


def test_committed_events_are_published_right_after_the_commit(bus):
    nudge_on(bus)
    emit(db.session, "offer.posted", {"id": 1}, "test")
    emit(db.session, "offer.posted", {"id": 2}, "test")
    db.session.commit()
    assert [r.published_at is not None for r in rows()] == [True, True]
    assert rows()[0].attempts == 1
    assert queue_depth(bus.config, TABLE, "effects") == 2


def test_rolled_back_events_are_never_published(fs_bus):
    nudge_on(fs_bus)
    emit(db.session, "offer.posted", {"id": 1}, "test")
    db.session.rollback()
    db.session.commit()
    assert rows() == []
    assert "outbox_pending" not in db.session.info
    assert queue_depth(fs_bus.config, TABLE, "effects") == 0


def test_events_of_a_rolled_back_savepoint_are_not_published(fs_bus):
    nudge_on(fs_bus)
    emit(db.session, "offer.posted", {"id": 1}, "test")
    nested = db.session.begin_nested()
    emit(db.session, "offer.posted", {"id": 2}, "test")
    nested.rollback()
    db.session.commit()
    assert [r.payload["data"]["id"] for r in rows()] == [1]
    assert queue_depth(fs_bus.config, TABLE, "effects") == 1


def test_no_nudge_when_it_is_turned_off(fs_bus):
    fs_bus.use(TABLE)
    emit(db.session, "offer.posted", {"id": 1}, "test")
    db.session.commit()
    assert rows()[0].published_at is None
    assert queue_depth(fs_bus.config, TABLE, "effects") == 0


def test_a_dead_broker_leaves_the_row_to_the_relay_and_the_commit_stands(bus):
    nudge_on(bus)
    bus.config["EVENTS_NUDGE_PAUSE"] = 60.0
    bus.cut()
    emit(db.session, "offer.posted", {"id": 1}, "test")
    db.session.commit()
    [row] = rows()
    assert row.published_at is None
    assert row.attempts == 1 and row.last_error
    bus.restore()
    emit(db.session, "offer.posted", {"id": 2}, "test")
    db.session.commit()  # paused after the failure: the relay takes this one too
    assert [r.published_at for r in rows()] == [None, None]
    assert extension.nudger_for(bus.app).paused_until > 0
