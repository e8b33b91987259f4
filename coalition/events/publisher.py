"""Publishing to the broker, and the after-commit nudge that keeps latency low.

`Publisher` owns one lazily opened connection, declares the topology on it, and publishes
persistent JSON messages with publisher confirms on RabbitMQ and a bounded retry policy, so
a publish never hangs while the broker is down. The nudge publishes a web request's events
right after its commit; when that fails the rows stay unpublished and the relay takes them.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, has_app_context
from kombu import Connection, Producer
from sqlalchemy import event as sa_event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from coalition.events import broker, metrics
from coalition.events.topology import HandlerTable, Topology, default_handlers
from coalition.models.base import utcnow
from coalition.models.events import OutboxEvent

log = logging.getLogger("coalition.events.publisher")


@dataclass(frozen=True)
class Outgoing:
    """One message to publish: to the events exchange, a group's queue, or the dead letters."""

    envelope: Mapping[str, Any]
    exchange: str
    routing_key: str
    headers: Mapping[str, Any] = field(default_factory=dict)


class PublishError(Exception):
    """Publishing stopped: `done` messages went out before `cause` stopped the rest."""

    def __init__(self, done: int, cause: BaseException) -> None:
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.done = done
        self.cause = cause


class Publisher:
    """A thread-safe producer with one lazily opened, confirmed connection."""

    def __init__(
        self,
        config: Mapping[str, Any],
        topology: Topology,
        *,
        timeout: float,
        max_retries: int = 1,
        path: str = "relay",
    ) -> None:
        self.config = config
        self.topology = topology
        self.timeout = timeout
        self.max_retries = max_retries
        self.path = path
        self._lock = threading.Lock()
        self._connection: Connection | None = None
        self._producer: Producer | None = None
        self._pid = 0

    @property
    def retry_policy(self) -> dict[str, Any]:
        """kombu's `ensure` policy: few retries, short intervals, a total timeout."""
        return {
            "max_retries": self.max_retries,
            "interval_start": 0,
            "interval_step": 0.2,
            "interval_max": 1.0,
        }

    def to_events(self, envelope: Mapping[str, Any]) -> Outgoing:
        """Address an event to the topic exchange, routed by its type."""
        return Outgoing(envelope, self.topology.exchange.name, str(envelope["type"]))

    def to_group(self, envelope: Mapping[str, Any], group: str, **headers: Any) -> Outgoing:
        """Address an event to one group's queue only (retries, sweeps, replays)."""
        return Outgoing(envelope, "", self.topology.queue_name(group), headers)

    def to_dead(self, envelope: Mapping[str, Any], group: str, error: str) -> Outgoing:
        """Address a copy of a dead letter to the dead-letter exchange."""
        headers = {"x-group": group, "x-error": error[:500]}
        return Outgoing(envelope, self.topology.dead_exchange.name, group, headers)

    def publish(self, messages: Sequence[Outgoing]) -> int:
        """Publish in order, each persistent and confirmed; raise PublishError on failure."""
        if not messages:
            return 0
        with self._lock:
            done = 0
            try:
                producer = self._ensure_producer()
                for message in messages:
                    self._publish_one(producer, message)
                    done += 1
            except Exception as exc:  # noqa: BLE001 - every broker failure is reported the same
                self._discard()
                metrics.PUBLISH_FAILURES.labels(self.path).inc()
                raise PublishError(done, exc) from exc
            return done

    def _publish_one(self, producer: Producer, message: Outgoing) -> None:
        """One persistent JSON message; on RabbitMQ this waits for the broker's confirm."""
        started = time.perf_counter()
        producer.publish(
            dict(message.envelope),
            exchange=message.exchange,
            routing_key=message.routing_key,
            serializer="json",
            delivery_mode=2,
            message_id=str(message.envelope.get("id", "")),
            headers=dict(message.headers),
            retry=True,
            retry_policy=self.retry_policy,
            timeout=self.timeout,
            confirm_timeout=self.timeout,
        )
        metrics.PUBLISH_SECONDS.labels(self.path).observe(time.perf_counter() - started)
        metrics.PUBLISHED.labels(self.path).inc()

    def _ensure_producer(self) -> Producer:
        """Open the connection (again after a failure or a fork) and declare the topology."""
        if self._producer is not None and self._pid == os.getpid():
            return self._producer
        self._discard()
        connection = broker.connect(self.config, confirm=True, connect_timeout=self.timeout)
        connection.ensure_connection(
            max_retries=self.max_retries,
            interval_start=0,
            interval_step=0.2,
            interval_max=1.0,
            timeout=self.timeout,
        )
        channel = connection.channel()
        self.topology.declare(channel)
        self._connection = connection
        self._producer = Producer(channel, serializer="json", auto_declare=False)
        self._pid = os.getpid()
        return self._producer

    def _discard(self) -> None:
        """Drop the connection; the next publish opens a new one."""
        connection, self._connection, self._producer = self._connection, None, None
        if connection is not None and self._pid == os.getpid():
            try:
                connection.release()
            except Exception:  # noqa: BLE001 - closing a broken connection may fail too
                log.debug("closing a broken broker connection failed", exc_info=True)

    def close(self) -> None:
        """Release the connection."""
        with self._lock:
            self._discard()


# ---------------------------------------------------------------- stamping outbox rows


def stamp_published(conn: sa.Connection | Session, ids: Sequence[int]) -> None:
    """Mark rows published now; clear their claim and last error."""
    if ids:
        conn.execute(
            sa.update(OutboxEvent)
            .where(OutboxEvent.id.in_(ids))
            .values(
                published_at=utcnow(),
                attempts=OutboxEvent.attempts + 1,
                last_error=None,
                claimed_by=None,
                claimed_until=None,
            )
        )


def record_publish_failure(conn: sa.Connection | Session, ids: Sequence[int], error: str) -> None:
    """Count a failed attempt on rows that stay unpublished, and release their claim."""
    if ids:
        conn.execute(
            sa.update(OutboxEvent)
            .where(OutboxEvent.id.in_(ids), OutboxEvent.published_at.is_(None))
            .values(
                attempts=OutboxEvent.attempts + 1,
                last_error=error[:2000],
                claimed_by=None,
                claimed_until=None,
            )
        )


# ---------------------------------------------------------------- the nudge


class Nudger:
    """Publishes just-committed outbox rows; pauses for a while after a broker failure."""

    def __init__(self, config: Mapping[str, Any], handlers: HandlerTable) -> None:
        timeout = float(config.get("EVENTS_NUDGE_TIMEOUT", 1.0))
        topology = Topology.from_config(config, handlers)
        self.publisher = Publisher(config, topology, timeout=timeout, max_retries=0, path="nudge")
        self.pause = float(config.get("EVENTS_NUDGE_PAUSE", 5.0))
        self.paused_until = 0.0

    def nudge(self, engine: Engine, event_ids: Sequence[str]) -> int:
        """Publish the committed, still unpublished rows among `event_ids`; return how many."""
        if time.monotonic() < self.paused_until:
            return 0
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(OutboxEvent.id, OutboxEvent.payload)
                .where(OutboxEvent.event_id.in_(event_ids), OutboxEvent.published_at.is_(None))
                .order_by(OutboxEvent.id)
            ).all()
        if not rows:
            return 0
        return self._publish_rows(engine, rows)

    def _publish_rows(self, engine: Engine, rows: Sequence[Any]) -> int:
        """Publish, then stamp what went out; note the failure on the rest."""
        try:
            done = self.publisher.publish([self.publisher.to_events(r.payload) for r in rows])
            error = None
        except PublishError as exc:
            done, error = exc.done, str(exc)
            self.paused_until = time.monotonic() + self.pause
            log.warning(
                "nudge failed, the relay will publish %d event(s): %s", len(rows) - done, error
            )
        with engine.begin() as conn:
            stamp_published(conn, [r.id for r in rows[:done]])
            if error:
                record_publish_failure(conn, [r.id for r in rows[done:]], error)
        return done


def nudger_for(app: Flask) -> Nudger:
    """The app's nudger, created on first use."""
    state = app.extensions.setdefault("coalition.events", {})
    if "nudger" not in state:
        state["nudger"] = Nudger(app.config, default_handlers(app.config))
    return state["nudger"]  # type: ignore[no-any-return]


def reset(app: Flask) -> None:
    """Forget the app's nudger (after the broker configuration changed, in tests)."""
    state = app.extensions.get("coalition.events", {})
    nudger = state.pop("nudger", None)
    if nudger is not None:
        nudger.publisher.close()


@sa_event.listens_for(Session, "after_commit")
def _nudge_after_commit(session: Session) -> None:
    """Publish the events this transaction recorded; never fail the committed request."""
    pending = session.info.pop("outbox_pending", None)
    if not pending or not has_app_context():
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not app.config.get("EVENTS_NUDGE", True):
        return
    try:
        nudger_for(app).nudge(session.get_bind(), pending)
    except Exception:  # noqa: BLE001 - the outbox row is safe; the relay will publish it
        log.exception("nudge failed; the relay will publish %d event(s)", len(pending))


@sa_event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, previous_transaction: Any) -> None:
    """Events of a rolled-back transaction were never recorded (a savepoint keeps the rest)."""
    if previous_transaction.parent is None:
        session.info.pop("outbox_pending", None)
