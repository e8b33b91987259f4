"""Handling one message for one handler group: exactly one effect, or a retry, or a dead letter.

The inbox row `(event_id, group)` is inserted first, in the same transaction as the
handlers' effects; a duplicate delivery fails that insert and is skipped. A failing handler
rolls back everything and is retried with exponential backoff (the database keeps the
attempt, the relay re-publishes when it is due) until EVENTS_MAX_ATTEMPTS, then it is
dead-lettered. When even the failure cannot be written (the database is down) the message
must go back to the queue unacknowledged.
"""

from __future__ import annotations

import enum
import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from marshmallow import ValidationError
from sqlalchemy.orm import Session

from coalition.backoff import Backoff
from coalition.config import settings_of
from coalition.database import upsert
from coalition.events.envelope import Event, from_envelope
from coalition.models.base import utcnow
from coalition.models.events import DeadLetter, HandlerAttempt, InboxMessage
from worker.routing import Handler, HandlerTable

log = logging.getLogger("worker.processing")


class Outcome(enum.StrEnum):
    """How a message was settled; every outcome but REQUEUE is acknowledged."""

    DONE = "done"
    DUPLICATE = "duplicate"
    RETRY = "retry"
    DEAD = "dead"
    REQUEUE = "requeue"


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts before dead-lettering, and the backoff between them."""

    max_attempts: int = 5
    base: float = 1.0
    cap: float = 300.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> RetryPolicy:
        """EVENTS_MAX_ATTEMPTS, EVENTS_RETRY_BASE and EVENTS_RETRY_MAX."""
        settings = settings_of(config)
        return cls(
            settings.events_max_attempts, settings.events_retry_base, settings.events_retry_max
        )

    def delay(self, attempts: int) -> float:
        """Seconds to wait after the n-th failed attempt: base, 2 base, 4 base … up to cap."""
        return Backoff(self.base, self.cap).seconds(attempts)


@dataclass(frozen=True)
class Result:
    """The outcome, and what the consumer needs to dead-letter on the broker too."""

    outcome: Outcome
    event_id: str = ""
    event_type: str = ""
    error: str = ""


def process(
    session: Session,
    group: str,
    body: Any,
    handlers: HandlerTable,
    policy: RetryPolicy,
) -> Result:
    """Handle one delivered body for `group`; commit or roll back; never raise."""
    try:
        event = from_envelope(body)
    except (ValidationError, TypeError) as exc:
        return _dead_on_arrival(session, group, body, exc)
    funcs = handlers.get(group, {}).get(event.type, ())
    try:
        fresh = apply(session, group, event, funcs)
    except Exception as exc:  # noqa: BLE001 - any handler failure is retried, then dead-lettered
        session.rollback()
        return _after_failure(session, group, event, body, describe(exc), policy)
    outcome = Outcome.DONE if fresh else Outcome.DUPLICATE
    return Result(outcome, event.id, event.type)


def apply(session: Session, group: str, event: Event, funcs: Sequence[Handler]) -> bool:
    """Inbox row, handlers, commit: True when done now, False when done before."""
    session.add(InboxMessage(event_id=event.id, handler=group))
    try:
        session.flush()
    except sa.exc.IntegrityError:
        session.rollback()
        _forget_attempts(session, group, event.id)
        return False
    for func in funcs:
        func(session, event)
    _delete_attempts(session, group, event.id)
    session.commit()
    return True


def process_batch(
    session: Session,
    group: str,
    bodies: Sequence[Any],
    handlers: HandlerTable,
    policy: RetryPolicy,
) -> list[Result]:
    """Handle several bodies in one transaction (one commit); never raise.

    When anything in the batch is unusual (an invalid envelope, a duplicate, a failing
    handler) the batch is rolled back and each body is handled on its own, so a failure
    or a duplicate is settled exactly as `process` settles it.
    """
    if len(bodies) > 1:
        try:
            return _apply_all(session, group, bodies, handlers)
        except Exception:  # noqa: BLE001 - fall back to one transaction per message
            session.rollback()
    return [process(session, group, body, handlers, policy) for body in bodies]


def _apply_all(
    session: Session, group: str, bodies: Sequence[Any], handlers: HandlerTable
) -> list[Result]:
    """Inbox rows and handlers of every body, one commit; raise on anything unusual."""
    events = [from_envelope(body) for body in bodies]
    if len({event.id for event in events}) < len(events):
        raise ValueError("the same event twice in one batch")
    session.add_all([InboxMessage(event_id=event.id, handler=group) for event in events])
    session.flush()
    table = handlers.get(group, {})
    for event in events:
        for func in table.get(event.type, ()):
            func(session, event)
    session.execute(
        sa.delete(HandlerAttempt).where(
            HandlerAttempt.handler_group == group,
            HandlerAttempt.event_id.in_([event.id for event in events]),
        )
    )
    session.commit()
    return [Result(Outcome.DONE, event.id, event.type) for event in events]


def describe(exc: BaseException) -> str:
    """A one-line description of an exception."""
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:2000]


def _delete_attempts(session: Session, group: str, event_id: str) -> None:
    """The event is handled: no retry is pending any more."""
    session.execute(
        sa.delete(HandlerAttempt).where(
            HandlerAttempt.event_id == event_id, HandlerAttempt.handler_group == group
        )
    )


def _forget_attempts(session: Session, group: str, event_id: str) -> None:
    """A duplicate of a handled event clears a retry another delivery left behind."""
    _delete_attempts(session, group, event_id)
    session.commit()


def _after_failure(
    session: Session, group: str, event: Event, body: Any, error: str, policy: RetryPolicy
) -> Result:
    """Write the failure (retry or dead letter); requeue when that cannot be written."""
    log.warning("handler failed", extra={"event_id": event.id, "group": group, "error": error})
    try:
        outcome = record_failure(session, group, event, body, error, policy)
        session.commit()
    except Exception as exc:  # noqa: BLE001 - the database is unreachable: keep the message
        session.rollback()
        log.warning("could not record the failure", extra={"error": describe(exc)})
        return Result(Outcome.REQUEUE, event.id, event.type, error)
    return Result(outcome, event.id, event.type, error)


def record_failure(
    session: Session, group: str, event: Event, body: Any, error: str, policy: RetryPolicy
) -> Outcome:
    """Count the attempt; schedule the retry, or bury the event after the last one; flush."""
    if session.get(InboxMessage, (event.id, group)) is not None:
        return Outcome.DUPLICATE  # another delivery of the same event succeeded meanwhile
    now = utcnow()
    stmt = upsert(
        session,
        HandlerAttempt,
        {
            "event_id": event.id,
            "handler_group": group,
            "event_type": event.type,
            "payload": body,
            "attempts": 1,
            "last_error": error,
            "first_failed_at": now,
            "next_attempt_at": now,
        },
        index_elements=["event_id", "handler_group"],
        set_={"attempts": HandlerAttempt.attempts + 1, "last_error": error},
    ).returning(HandlerAttempt.attempts)
    attempts = int(session.execute(stmt).scalar_one())
    if attempts >= policy.max_attempts:
        bury(session, group, event.id, event.type, body, error, attempts)
        _delete_attempts(session, group, event.id)
        return Outcome.DEAD
    session.execute(
        sa.update(HandlerAttempt)
        .where(HandlerAttempt.event_id == event.id, HandlerAttempt.handler_group == group)
        .values(next_attempt_at=now + timedelta(seconds=policy.delay(attempts)))
        .execution_options(synchronize_session=False)
    )
    return Outcome.RETRY


def bury(
    session: Session,
    group: str,
    event_id: str,
    event_type: str,
    body: Any,
    error: str,
    attempts: int,
) -> None:
    """Record (or renew, after a replay failed again) the group's dead letter; flush."""
    values = {
        "event_type": event_type[:60],
        "payload": body,
        "error": error,
        "attempts": attempts,
        "dead_at": utcnow(),
        "replayed_at": None,
    }
    session.execute(
        upsert(
            session,
            DeadLetter,
            {"event_id": event_id, "handler_group": group, **values},
            index_elements=["event_id", "handler_group"],
            set_=values,
        )
    )


def _dead_on_arrival(session: Session, group: str, body: Any, exc: Exception) -> Result:
    """An envelope that does not validate can never succeed: dead-letter it at once."""
    event_id, event_type = _identify(body)
    error = f"invalid envelope: {describe(exc)}"
    payload = body if isinstance(body, dict) else {"body": repr(body)[:10000]}
    try:
        bury(session, group, event_id, event_type, payload, error, 1)
        session.commit()
    except Exception as db_exc:  # noqa: BLE001 - keep the message while the database is down
        session.rollback()
        log.warning("could not record a dead letter", extra={"error": describe(db_exc)})
        return Result(Outcome.REQUEUE, event_id, event_type, error)
    return Result(Outcome.DEAD, event_id, event_type, error)


def _identify(body: Any) -> tuple[str, str]:
    """The event id and type a broken envelope claims, or stand-ins."""
    claimed = body.get("id") if isinstance(body, dict) else None
    try:
        event_id = str(uuid.UUID(str(claimed)))
    except ValueError:
        event_id = str(uuid.uuid4())
    event_type = str(body.get("type") if isinstance(body, dict) else "unknown")
    return event_id, event_type[:60]
