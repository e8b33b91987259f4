"""What the event backbone is doing: backlog, unprocessed events, dead letters, replay.

An event is *unprocessed* by a group when the group subscribes to its type and has neither
an inbox row nor an active (not replayed) dead letter for it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from coalition.database import upsert
from coalition.events.topology import Routes
from coalition.models.base import utcnow
from coalition.models.events import DeadLetter, HandlerAttempt, InboxMessage, JobLease, OutboxEvent

DEAD_LETTERS_LISTED = 50


def handled_by(group: str) -> sa.ColumnElement[bool]:
    """The outbox row has an inbox row for `group`."""
    return (
        sa.select(InboxMessage.event_id)
        .where(InboxMessage.event_id == OutboxEvent.event_id, InboxMessage.handler == group)
        .exists()
    )


def dead_for(group: str) -> sa.ColumnElement[bool]:
    """The outbox row has an active dead letter for `group`."""
    return (
        sa.select(DeadLetter.id)
        .where(
            DeadLetter.event_id == OutboxEvent.event_id,
            DeadLetter.handler_group == group,
            DeadLetter.replayed_at.is_(None),
        )
        .exists()
    )


def retrying_for(group: str) -> sa.ColumnElement[bool]:
    """The outbox row waits for a retry by `group`."""
    return (
        sa.select(HandlerAttempt.event_id)
        .where(
            HandlerAttempt.event_id == OutboxEvent.event_id,
            HandlerAttempt.handler_group == group,
        )
        .exists()
    )


def pending_for(group: str, types: Sequence[str]) -> sa.ColumnElement[bool]:
    """`group` subscribes to the row's type and has not handled it (nor given up on it)."""
    return sa.and_(OutboxEvent.type.in_(types), ~handled_by(group), ~dead_for(group))


def pending_any(routes: Routes) -> sa.ColumnElement[bool]:
    """Some subscribed group has not handled the row yet."""
    conditions = [pending_for(g, types) for g, types in routes.items()]
    return sa.or_(*conditions) if conditions else sa.false()


def _count(session: Session, *where: sa.ColumnElement[bool]) -> int:
    """Outbox rows matching all conditions."""
    query = sa.select(sa.func.count()).select_from(OutboxEvent).where(*where)
    return int(session.scalar(query) or 0)


def _age(session: Session, now: datetime, *where: sa.ColumnElement[bool]) -> float:
    """Seconds since the oldest outbox row matching the conditions was recorded (0 if none)."""
    oldest = session.scalar(sa.select(sa.func.min(OutboxEvent.created_at)).where(*where))
    if oldest is None:
        return 0.0
    if oldest.tzinfo is None:  # aggregate results skip the column type on SQLite
        oldest = datetime.fromisoformat(str(oldest)).replace(tzinfo=now.tzinfo)
    return round(max((now - oldest).total_seconds(), 0.0), 3)


def events_status(session: Session, routes: Routes) -> dict[str, Any]:
    """The figures of `flask events status` and `/metrics`."""
    now = utcnow()
    unpublished = OutboxEvent.published_at.is_(None)
    published = OutboxEvent.published_at.is_not(None)
    pending = pending_any(routes)
    return {
        "outbox": _count(session),
        "unpublished": _count(session, unpublished),
        "oldest_unpublished_seconds": _age(session, now, unpublished),
        "unprocessed": _count(session, published, pending),
        "oldest_unprocessed_seconds": _age(session, now, sa.or_(unpublished, pending)),
        "retrying": int(
            session.scalar(sa.select(sa.func.count()).select_from(HandlerAttempt)) or 0
        ),
        "dead": _dead_count(session),
        "groups": _groups(session, routes, published),
        "dead_letters": [dead_letter_dict(d) for d in active_dead_letters(session)],
        "jobs": [
            _job_dict(j) for j in session.scalars(sa.select(JobLease).order_by(JobLease.name))
        ],
    }


def _dead_count(session: Session) -> int:
    """Dead letters not replayed."""
    query = (
        sa.select(sa.func.count()).select_from(DeadLetter).where(DeadLetter.replayed_at.is_(None))
    )
    return int(session.scalar(query) or 0)


def _groups(session: Session, routes: Routes, published: sa.ColumnElement[bool]) -> dict[str, Any]:
    """Per group: the event types it takes and how many published ones it has not handled."""
    return {
        group: {
            "types": list(types),
            "unprocessed": _count(session, published, pending_for(group, types)),
        }
        for group, types in routes.items()
    }


def active_dead_letters(session: Session, limit: int = DEAD_LETTERS_LISTED) -> Sequence[DeadLetter]:
    """Dead letters not replayed, newest first."""
    return session.scalars(
        sa.select(DeadLetter)
        .where(DeadLetter.replayed_at.is_(None))
        .order_by(DeadLetter.dead_at.desc(), DeadLetter.id.desc())
        .limit(limit)
    ).all()


def dead_letter_dict(letter: DeadLetter) -> dict[str, Any]:
    """A dead letter as JSON."""
    return {
        "id": letter.id,
        "event_id": letter.event_id,
        "type": letter.event_type,
        "group": letter.handler_group,
        "attempts": letter.attempts,
        "error": letter.error,
        "dead_at": letter.dead_at.isoformat(),
        "replays": letter.replays,
    }


def _job_dict(lease: JobLease) -> dict[str, Any]:
    """A periodic job's lease as JSON."""
    return {
        "name": lease.name,
        "holder": lease.holder,
        "runs": lease.runs,
        "next_due": lease.expires_at.isoformat(),
        "last_finished_at": lease.last_finished_at.isoformat() if lease.last_finished_at else None,
        "last_error": lease.last_error,
    }


# ---------------------------------------------------------------- replay


class ReplayError(Exception):
    """A replay that cannot happen, with a one-line reason and an HTTP status."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


def find_dead_letters(session: Session, ident: str) -> list[DeadLetter]:
    """Dead letters by row id, or every dead letter of an event id."""
    if ident.isdigit():
        letter = session.get(DeadLetter, int(ident))
        return [letter] if letter is not None else []
    return list(session.scalars(sa.select(DeadLetter).where(DeadLetter.event_id == ident)))


def replay(session: Session, ident: str, groups: Collection[str]) -> list[DeadLetter]:
    """Make active dead letters retries due now and mark them replayed; flush.

    Nothing is published here: the relay publishes the retry to the group's queue once this
    transaction has committed, so a replay is never lost and never sent for a rolled-back one.
    """
    letters = find_dead_letters(session, ident)
    if not letters:
        raise ReplayError(f"no dead letter with id or event id {ident}", 404)
    active = [d for d in letters if d.replayed_at is None]
    if not active:
        raise ReplayError(f"dead letter {ident} was already replayed")
    unknown = sorted({d.handler_group for d in active} - set(groups))
    if unknown:
        raise ReplayError(f"handler group {', '.join(unknown)} no longer exists")
    now = utcnow()
    for letter in active:
        session.execute(_retry_now(session, letter, now))
        letter.replayed_at = now
        letter.replays += 1
    session.flush()
    return active


def _retry_now(session: Session, letter: DeadLetter, now: datetime) -> Any:
    """The statement that makes a dead letter a retry due at `now` (the relay publishes it)."""
    values = {
        "event_id": letter.event_id,
        "handler_group": letter.handler_group,
        "event_type": letter.event_type,
        "payload": letter.payload,
        "attempts": 0,
        "last_error": letter.error,
        "first_failed_at": now,
        "next_attempt_at": now,
    }
    return upsert(
        session,
        HandlerAttempt,
        values,
        index_elements=["event_id", "handler_group"],
        set_={"attempts": 0, "next_attempt_at": now},
    )
