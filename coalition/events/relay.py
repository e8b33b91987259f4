"""The outbox relay: claims unpublished rows in batches, publishes them, stamps them.

Rows are claimed with `coalition.leases` (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so relays
side by side take different rows; one atomic claiming UPDATE on SQLite). A claim expires
(EVENTS_CLAIM_SECONDS), so rows of a relay killed mid-batch are taken again. The relay also
re-publishes the handler retries that are due.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from coalition import leases
from coalition.backoff import Backoff
from coalition.config import settings_of
from coalition.events.publisher import (
    Publisher,
    PublishError,
    record_publish_failure,
    stamp_published,
)
from coalition.events.topology import Routes, Topology
from coalition.extensions import db
from coalition.models.base import utcnow
from coalition.models.events import HandlerAttempt, OutboxEvent

log = logging.getLogger("coalition.events.relay")


def relay_publisher(config: Mapping[str, Any], routes: Routes, path: str = "relay") -> Publisher:
    """A publisher with the relay's longer timeout."""
    return Publisher(
        config,
        Topology.from_config(config, routes),
        timeout=settings_of(config).broker_publish_timeout,
        max_retries=2,
        path=path,
    )


def relay_grace(config: Mapping[str, Any]) -> float:
    """How old a row must be before the relay takes it: the nudge gets the first chance."""
    return settings_of(config).relay_grace


def claim_batch(
    session: Session, *, limit: int, older_than: datetime, claim_for: float
) -> list[Any]:
    """Claim up to `limit` unpublished rows created before `older_than`; commit the claim."""
    now = utcnow()
    claimable = sa.and_(
        OutboxEvent.published_at.is_(None),
        OutboxEvent.created_at <= older_than,
        leases.lapsed(OutboxEvent.claimed_until, now),
    )
    claim = {
        OutboxEvent.claimed_by: leases.new_token(),
        OutboxEvent.claimed_until: leases.lease_until(now, claim_for),
    }
    ids = leases.claim_rows(session, OutboxEvent.id, claimable, claim, limit=limit)
    session.commit()
    if not ids:
        return []
    return list(
        session.execute(
            sa.select(OutboxEvent.id, OutboxEvent.payload)
            .where(OutboxEvent.id.in_(ids))
            .order_by(OutboxEvent.id)
        ).all()
    )


def publish_rows(session: Session, publisher: Publisher, rows: Sequence[Any]) -> int:
    """Publish claimed rows in order, stamp those that went out, note the failure; commit."""
    try:
        done = publisher.publish([publisher.to_events(r.payload) for r in rows])
        error = None
    except PublishError as exc:
        done, error = exc.done, str(exc)
    stamp_published(session, [r.id for r in rows[:done]])
    if error:
        record_publish_failure(session, [r.id for r in rows[done:]], error)
    session.commit()
    if error:
        raise RelayError(done, error)
    return done


class RelayError(Exception):
    """The broker refused part of a batch; the rest stays for the next pass."""

    def __init__(self, done: int, error: str) -> None:
        super().__init__(error)
        self.done = done


def relay_once(session: Session, publisher: Publisher, config: Mapping[str, Any]) -> int:
    """Claim and publish one batch; return how many rows were published."""
    settings = settings_of(config)
    rows = claim_batch(
        session,
        limit=settings.events_relay_batch,
        older_than=utcnow() - timedelta(seconds=settings.relay_grace),
        claim_for=settings.events_claim_seconds,
    )
    return publish_rows(session, publisher, rows) if rows else 0


def publish_due_retries(
    session: Session, publisher: Publisher, config: Mapping[str, Any], limit: int = 100
) -> int:
    """Re-publish failed events whose backoff has passed, to their group's queue only."""
    now = utcnow()
    due = session.scalars(
        sa.select(HandlerAttempt)
        .where(HandlerAttempt.next_attempt_at <= now)
        .order_by(HandlerAttempt.next_attempt_at)
        .limit(limit)
    ).all()
    guard = now + timedelta(seconds=settings_of(config).events_sweep_age)
    claimed = [row for row in due if _claim_retry(session, row, guard)]
    session.commit()
    messages = [
        publisher.to_group(r.payload, r.handler_group, **{"x-attempt": r.attempts + 1})
        for r in claimed
    ]
    try:
        return publisher.publish(messages)
    except PublishError as exc:
        _unclaim_retries(session, claimed[exc.done :])
        raise


def _claim_retry(session: Session, row: HandlerAttempt, guard: datetime) -> bool:
    """Move a due retry's next attempt to `guard` unless another relay already did."""
    return leases.claim_row(
        session,
        HandlerAttempt,
        sa.and_(
            HandlerAttempt.event_id == row.event_id,
            HandlerAttempt.handler_group == row.handler_group,
            HandlerAttempt.next_attempt_at == row.next_attempt_at,
        ),
        {HandlerAttempt.next_attempt_at: guard},
    )


def _unclaim_retries(session: Session, rows: Sequence[HandlerAttempt]) -> None:
    """Retries that could not be published are due again at once."""
    for row in rows:
        session.execute(
            sa.update(HandlerAttempt)
            .where(
                HandlerAttempt.event_id == row.event_id,
                HandlerAttempt.handler_group == row.handler_group,
            )
            .values(next_attempt_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    session.commit()


class Relay:
    """The relay loop: a batch as soon as the last one was full, else every interval."""

    def __init__(self, app: Flask, routes: Routes) -> None:
        self.app = app
        self.publisher = relay_publisher(app.config, routes)
        settings = settings_of(app.config)
        self.interval = settings.events_relay_interval
        self.batch = settings.events_relay_batch
        self.failures = 0

    def run_once(self) -> int:
        """One pass: a batch of the outbox, then the due retries."""
        with self.app.app_context():
            try:
                published = relay_once(db.session(), self.publisher, self.app.config)
                published += publish_due_retries(db.session(), self.publisher, self.app.config)
            finally:
                db.session.remove()
        return published

    def run(self, stop: threading.Event) -> None:
        """Loop until `stop` is set; back off while the broker or the database is down."""
        log.info("relay started", extra={"interval": self.interval, "batch": self.batch})
        while not stop.is_set():
            stop.wait(self._next_wait(self._pass()))
        self.publisher.close()
        log.info("relay stopped")

    def _pass(self) -> int:
        """Run one pass, logging instead of raising."""
        try:
            published = self.run_once()
        except (RelayError, PublishError, sa.exc.SQLAlchemyError) as exc:
            self.failures += 1
            log.warning("relay pass failed: %s", exc, extra={"failures": self.failures})
            return -1
        self.failures = 0
        return published

    def _next_wait(self, published: int) -> float:
        """No wait after a full batch; exponential backoff after failures."""
        if published < 0:
            return Backoff(self.interval, 10.0).seconds(self.failures + 1)
        return 0.0 if published >= self.batch else self.interval
