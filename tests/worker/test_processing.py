"""One message for one handler group: effect and inbox row together, retries, dead letters."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from coalition.events.envelope import Event, to_envelope
from coalition.extensions import db
from coalition.models.base import utcnow
from coalition.models.events import DeadLetter, HandlerAttempt, InboxMessage
from tests.conftest import count
from tests.worker.support import create_effects, effect_counts, effects_table, recorder
from worker.processing import Outcome, RetryPolicy, process, process_batch

POLICY = RetryPolicy(max_attempts=3, base=1.0, cap=10.0)


@pytest.fixture(autouse=True)
def _effects(app):
    create_effects()


def envelope(event_type: str = "offer.posted") -> dict:
    return to_envelope(Event(type=event_type, data={"id": 1}, actor="test"))


def failing(session, event):
    session.execute(sa.text("SELECT 1"))
    raise RuntimeError("handler broke")


def test_effect_and_inbox_row_commit_together():
    body = envelope()
    result = process(db.session, "effects", body, effects_table(), POLICY)
    assert result.outcome is Outcome.DONE
    assert effect_counts() == {body["id"]: 1}
    assert db.session.get(InboxMessage, (body["id"], "effects")) is not None


def test_a_duplicate_is_skipped_with_one_effect():
    body = envelope()
    first = process(db.session, "effects", body, effects_table(), POLICY)
    second = process(db.session, "effects", body, effects_table(), POLICY)
    assert (first.outcome, second.outcome) == (Outcome.DONE, Outcome.DUPLICATE)
    assert effect_counts() == {body["id"]: 1}


def test_each_group_handles_the_same_event_once():
    body = envelope()
    table = {"a": {"offer.posted": [recorder("a")]}, "b": {"offer.posted": [recorder("b")]}}
    for group in ("a", "b", "a", "b"):
        process(db.session, group, body, table, POLICY)
    assert effect_counts("a") == {body["id"]: 1}
    assert effect_counts("b") == {body["id"]: 1}


def test_a_failing_handler_rolls_back_the_effect_and_schedules_a_retry():
    body = envelope()
    table = {"effects": {"offer.posted": [recorder("effects"), failing]}}
    before = utcnow()
    result = process(db.session, "effects", body, table, POLICY)
    assert result.outcome is Outcome.RETRY
    assert "RuntimeError: handler broke" in result.error
    assert effect_counts() == {}
    assert count(InboxMessage) == 0
    attempt = db.session.get(HandlerAttempt, (body["id"], "effects"))
    assert attempt.attempts == 1
    assert attempt.payload == body
    assert attempt.next_attempt_at >= before + timedelta(seconds=POLICY.base)


def test_backoff_doubles_up_to_the_cap():
    assert [POLICY.delay(n) for n in (1, 2, 3, 4, 5)] == [1.0, 2.0, 4.0, 8.0, 10.0]


def test_the_last_attempt_dead_letters_the_event():
    body = envelope()
    table = {"effects": {"offer.posted": [failing]}}
    outcomes = [process(db.session, "effects", body, table, POLICY).outcome for _ in range(3)]
    assert outcomes == [Outcome.RETRY, Outcome.RETRY, Outcome.DEAD]
    assert count(HandlerAttempt) == 0
    letter = db.session.scalars(sa.select(DeadLetter)).one()
    assert (letter.event_id, letter.handler_group, letter.attempts) == (body["id"], "effects", 3)
    assert letter.event_type == "offer.posted"
    assert "handler broke" in letter.error
    assert letter.payload == body


def test_success_after_a_failure_clears_the_retry():
    body = envelope()
    calls = []

    def flaky(session, event):
        calls.append(event.id)
        if len(calls) == 1:
            raise RuntimeError("first time fails")

    table = {"effects": {"offer.posted": [flaky, recorder("effects")]}}
    assert process(db.session, "effects", body, table, POLICY).outcome is Outcome.RETRY
    assert process(db.session, "effects", body, table, POLICY).outcome is Outcome.DONE
    assert count(HandlerAttempt) == 0
    assert effect_counts() == {body["id"]: 1}


def test_an_invalid_envelope_is_dead_lettered_at_once():
    body = {"id": "not-a-uuid", "type": "offer.posted", "data": {}}
    result = process(db.session, "effects", body, effects_table(), POLICY)
    assert result.outcome is Outcome.DEAD
    letter = db.session.scalars(sa.select(DeadLetter)).one()
    assert letter.error.startswith("invalid envelope")
    assert effect_counts() == {}


def test_an_unknown_event_type_is_rejected_as_invalid():
    body = envelope()
    body["type"] = "offer.exploded"
    assert process(db.session, "effects", body, effects_table(), POLICY).outcome is Outcome.DEAD


def test_a_type_the_group_does_not_handle_is_marked_done_without_effect():
    body = envelope("match.proposed")
    result = process(db.session, "effects", body, effects_table(), POLICY)
    assert result.outcome is Outcome.DONE
    assert effect_counts() == {}


def test_when_the_failure_cannot_be_written_the_message_is_requeued(monkeypatch):
    import worker.processing as processing

    def database_gone(*args, **kwargs):
        raise sa.exc.OperationalError("INSERT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(processing, "record_failure", database_gone)
    body = envelope()
    table = {"effects": {"offer.posted": [failing]}}
    assert process(db.session, "effects", body, table, POLICY).outcome is Outcome.REQUEUE
    assert count(HandlerAttempt) == 0 and count(InboxMessage) == 0


def test_a_batch_commits_every_effect_together():
    bodies = [envelope() for _ in range(5)]
    results = process_batch(db.session, "effects", bodies, effects_table(), POLICY)
    assert [r.outcome for r in results] == [Outcome.DONE] * 5
    assert effect_counts() == {b["id"]: 1 for b in bodies}
    assert count(InboxMessage) == 5


def test_a_batch_with_a_duplicate_falls_back_to_one_by_one():
    done = envelope()
    process(db.session, "effects", done, effects_table(), POLICY)
    fresh = envelope()
    results = process_batch(db.session, "effects", [fresh, done, fresh], effects_table(), POLICY)
    assert [r.outcome for r in results] == [Outcome.DONE, Outcome.DUPLICATE, Outcome.DUPLICATE]
    assert effect_counts() == {done["id"]: 1, fresh["id"]: 1}


def test_a_failure_in_a_batch_only_fails_its_own_message():
    def picky(session, event):
        if event.data["id"] == "bad":
            raise RuntimeError("bad one")
        recorder("effects")(session, event)

    good, bad = envelope(), envelope()
    bad["data"] = {"id": "bad"}
    table = {"effects": {"offer.posted": [picky]}}
    results = process_batch(db.session, "effects", [good, bad, envelope()], table, POLICY)
    assert [r.outcome for r in results] == [Outcome.DONE, Outcome.RETRY, Outcome.DONE]
    assert len(effect_counts()) == 2 and bad["id"] not in effect_counts()
    assert db.session.get(HandlerAttempt, (bad["id"], "effects")).attempts == 1
