"""`flask events status [--json]` and `flask events replay ID`."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from coalition.events.envelope import Event
from coalition.events.outbox import record
from coalition.events.publisher import PublishError
from coalition.extensions import db
from coalition.models.base import utcnow
from coalition.models.events import DeadLetter, HandlerAttempt, InboxMessage
from tests.worker.support import effect_counts, queue_depth, recorder, relay_retries, wait_for

TABLE = {
    "effects": {"offer.posted": [recorder("effects")], "request.posted": [recorder("effects")]},
    "audit": {"offer.posted": [recorder("audit")]},
}


def add_event(event_type="offer.posted", published=True, age=0.0, handled_by=()):
    """An outbox row, published or not, handled by some groups."""
    event = Event(
        type=event_type, data={"id": 1}, actor="test", occurred_at=utcnow() - timedelta(seconds=age)
    )
    row = record(db.session, event)
    row.created_at = utcnow() - timedelta(seconds=age)
    row.published_at = utcnow() if published else None
    for group in handled_by:
        db.session.add(InboxMessage(event_id=event.id, handler=group))
    return row


def bury(row, group="effects", error="RuntimeError: boom"):
    letter = DeadLetter(
        event_id=row.event_id,
        handler_group=group,
        event_type=row.type,
        payload=row.payload,
        error=error,
        attempts=3,
    )
    db.session.add(letter)
    return letter


def status_json(app) -> dict:
    result = app.test_cli_runner().invoke(args=["events", "status", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_status_counts_backlog_unprocessed_and_dead(fs_bus, app):
    fs_bus.use(TABLE)
    add_event(handled_by=("effects", "audit"))  # done
    add_event(handled_by=("effects",), age=30)  # audit has not handled it
    add_event("request.posted", age=10)  # effects has not handled it
    add_event("digest.due", handled_by=())  # nobody subscribes: never unprocessed
    add_event(published=False, age=120)  # unpublished
    dead = bury(add_event(handled_by=("audit",), age=500))  # dead for effects: not unprocessed
    db.session.add(
        HandlerAttempt(
            event_id="e" * 36,
            handler_group="effects",
            event_type="offer.posted",
            payload={},
            attempts=1,
            next_attempt_at=utcnow(),
        )
    )
    db.session.commit()
    status = status_json(app)
    assert {k: status[k] for k in ("outbox", "unpublished", "unprocessed", "dead", "retrying")} == {
        "outbox": 6,
        "unpublished": 1,
        "unprocessed": 2,
        "dead": 1,
        "retrying": 1,
    }
    assert 119 <= status["oldest_unprocessed_seconds"] < 400
    assert 119 <= status["oldest_unpublished_seconds"] < 400
    assert status["groups"]["audit"] == {"types": ["offer.posted"], "unprocessed": 1}
    assert status["groups"]["effects"]["unprocessed"] == 1
    assert [d["id"] for d in status["dead_letters"]] == [dead.id]
    assert status["dead_letters"][0]["error"] == "RuntimeError: boom"


def test_status_of_an_empty_outbox(fs_bus, app):
    fs_bus.use(TABLE)
    status = status_json(app)
    assert status["outbox"] == 0 and status["oldest_unprocessed_seconds"] == 0


def test_status_text_lists_the_dead_letters(fs_bus, app):
    fs_bus.use(TABLE)
    letter = bury(add_event(), error="ValueError: poison")
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["events", "status"])
    assert result.exit_code == 0
    assert "dead letters: 1" in result.output
    assert f"dead #{letter.id} offer.posted {letter.event_id} in effects" in result.output
    assert "ValueError: poison" in result.output


@pytest.mark.parametrize("by", ["id", "event_id"])
def test_replay_republishes_to_the_group_only_and_marks_it(bus, app, by):
    bus.use(TABLE)
    letter = bury(add_event(handled_by=("audit",)))
    db.session.commit()
    ident = str(letter.id) if by == "id" else letter.event_id
    result = app.test_cli_runner().invoke(args=["events", "replay", ident])
    assert result.exit_code == 0, result.output
    assert f"replayed dead letter #{letter.id}" in result.output
    db.session.expire_all()
    assert letter.replayed_at is not None and letter.replays == 1
    assert db.session.get(HandlerAttempt, (letter.event_id, "effects")) is not None  # for the relay
    assert relay_retries(bus.config, TABLE) == 1
    assert queue_depth(bus.config, TABLE, "effects") == 1
    assert queue_depth(bus.config, TABLE, "audit") == 0
    bus.start(TABLE, parts=("consume",))
    wait_for(lambda: effect_counts("effects") == {letter.event_id: 1})
    assert status_json(app)["dead"] == 0


def test_replay_of_an_unknown_id_fails_and_changes_nothing(fs_bus, app):
    fs_bus.use(TABLE)
    result = app.test_cli_runner().invoke(args=["events", "replay", "999"])
    assert result.exit_code != 0
    assert "no dead letter with id or event id 999" in result.output


def test_replay_twice_is_refused(fs_bus, app):
    fs_bus.use(TABLE)
    letter = bury(add_event())
    db.session.commit()
    runner = app.test_cli_runner()
    assert runner.invoke(args=["events", "replay", str(letter.id)]).exit_code == 0
    again = runner.invoke(args=["events", "replay", str(letter.id)])
    assert again.exit_code != 0 and "already replayed" in again.output
    assert relay_retries(fs_bus.config, TABLE) == 1
    assert queue_depth(fs_bus.config, TABLE, "effects") == 1


def test_replay_with_the_broker_down_is_published_once_it_is_back(bus, app):
    bus.use(TABLE)
    letter = bury(add_event())
    db.session.commit()
    bus.cut()
    result = app.test_cli_runner().invoke(args=["events", "replay", str(letter.id)])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.scalar(sa.select(DeadLetter.replayed_at)) is not None
    retry = db.session.get(HandlerAttempt, (letter.event_id, "effects"))
    assert retry is not None and retry.next_attempt_at <= utcnow()
    with pytest.raises(PublishError):
        relay_retries(bus.config, TABLE)
    bus.restore()
    assert relay_retries(bus.config, TABLE) == 1
    bus.start(TABLE, parts=("consume",))
    wait_for(lambda: effect_counts("effects") == {letter.event_id: 1})


def test_a_replayed_event_that_fails_again_is_dead_again(fs_bus, app):
    def poison(session, event):
        raise RuntimeError("still broken")

    table = fs_bus.use({"effects": {"offer.posted": [poison]}})
    fs_bus.config["EVENTS_MAX_ATTEMPTS"] = 1
    letter = bury(add_event())
    db.session.commit()
    assert app.test_cli_runner().invoke(args=["events", "replay", str(letter.id)]).exit_code == 0
    fs_bus.start(table, parts=("consume", "relay"))  # the relay publishes the replay
    wait_for(lambda: status_json(app)["dead"] == 1)
    db.session.expire_all()
    assert letter.replayed_at is None and letter.error == "RuntimeError: still broken"
    assert letter.replays == 1
