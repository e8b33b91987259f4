"""Publishing to the broker, and the after-commit nudge that keeps latency low.

`Publisher` owns one lazily opened connection, declares the topology on it, and publishes
persistent JSON messages with publisher confirms on RabbitMQ (a batch is confirmed as a
whole), with bounded connection retries and timeouts, so a publish never hangs while the
broker is down. The nudge publishes a transaction's events right after its commit (the app
factory registers it, see `coalition.events.extension`); when that fails the rows stay
unpublished and the relay takes them.
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
from amqp import spec
from kombu import Connection, Producer
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from coalition.config import settings_of
from coalition.events import broker, metrics
from coalition.events.topology import Routes, Topology
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


class Confirms:
    """Publisher confirms of one RabbitMQ channel, counted by delivery tag.

    Waiting for each confirm in turn caps a relay at one broker fsync per message; this
    publishes a whole batch, then waits until the broker has confirmed all of it.
    """

    def __init__(self, channel: Any) -> None:
        self.channel = channel
        self.sent = 0
        self.acked_through = 0
        self.acked: set[int] = set()
        self.nacked = False
        channel.confirm_select()
        channel.events["basic_ack"].add(self._on_ack)
        channel.events["basic_nack"].add(self._on_nack)

    def _on_ack(self, delivery_tag: int, multiple: bool) -> None:
        if multiple:
            self.acked_through = max(self.acked_through, delivery_tag)
        else:
            self.acked.add(delivery_tag)

    def _on_nack(self, delivery_tag: int, multiple: bool) -> None:
        self.nacked = True

    def confirmed_since(self, start: int) -> int:
        """How many messages after tag `start` are confirmed, in order."""
        count = 0
        while (tag := start + count + 1) <= self.acked_through or tag in self.acked:
            count += 1
        return count

    def wait(self, start: int, timeout: float) -> None:
        """Wait until every message sent after tag `start` is confirmed; raise otherwise."""
        deadline = time.monotonic() + timeout
        while self.confirmed_since(start) < self.sent - start:
            if self.nacked:
                raise ConnectionError("the broker refused (nacked) a message")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no publisher confirm within {timeout} s")
            self.channel.wait([spec.Basic.Ack, spec.Basic.Nack], timeout=remaining)


class Publisher:
    """A thread-safe producer on one lazily opened connection, confirmed on RabbitMQ."""

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
        self._confirms: Confirms | None = None
        self._pid = 0

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
        """Publish in order, persistent and confirmed; raise PublishError on any failure.

        PublishError.done counts the messages the broker took, in order, before the failure.
        """
        if not messages:
            return 0
        with self._lock:
            started = time.perf_counter()
            start = 0
            try:
                producer = self._ensure_producer()
                start = self._confirms.sent if self._confirms else 0
                for message in messages:
                    self._send(producer, message)
                if self._confirms is not None:
                    self._confirms.wait(start, self.timeout)
            except Exception as exc:  # noqa: BLE001 - every broker failure is reported the same
                done = self._confirms.confirmed_since(start) if self._confirms else 0
                self._discard()
                metrics.PUBLISH_FAILURES.labels(self.path).inc()
                raise PublishError(done, exc) from exc
            self._observe(len(messages), time.perf_counter() - started)
            return len(messages)

    def _send(self, producer: Producer, message: Outgoing) -> None:
        """Hand one persistent JSON message to the broker (confirmed later, in bulk)."""
        producer.publish(
            dict(message.envelope),
            exchange=message.exchange,
            routing_key=message.routing_key,
            serializer="json",
            delivery_mode=2,
            message_id=str(message.envelope.get("id", "")),
            headers=dict(message.headers),
            timeout=self.timeout,
        )
        if self._confirms is not None:
            self._confirms.sent += 1

    def _observe(self, count: int, elapsed: float) -> None:
        """Record the publish time per message."""
        for _ in range(count):
            metrics.PUBLISH_SECONDS.labels(self.path).observe(elapsed / count)
        metrics.PUBLISHED.labels(self.path).inc(count)

    def _ensure_producer(self) -> Producer:
        """Open the connection (again after a failure or a fork) and declare the topology."""
        if self._producer is not None and self._pid == os.getpid():
            return self._producer
        self._discard()
        connection = broker.connect(self.config, connect_timeout=self.timeout)
        connection.ensure_connection(
            max_retries=self.max_retries,
            interval_start=0,
            interval_step=0.2,
            interval_max=1.0,
            timeout=self.timeout,
        )
        channel = connection.channel()
        self.topology.declare(channel)
        self._confirms = Confirms(channel) if broker.is_amqp(self.config["BROKER_URL"]) else None
        self._connection = connection
        self._producer = Producer(channel, serializer="json", auto_declare=False)
        self._pid = os.getpid()
        return self._producer

    def _discard(self) -> None:
        """Drop the connection; the next publish opens a new one."""
        connection, self._connection, self._producer = self._connection, None, None
        self._confirms = None
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

    def __init__(self, config: Mapping[str, Any], routes: Routes) -> None:
        settings = settings_of(config)
        timeout = settings.events_nudge_timeout
        topology = Topology.from_config(config, routes)
        self.publisher = Publisher(config, topology, timeout=timeout, max_retries=0, path="nudge")
        self.pause = settings.events_nudge_pause
        self.paused_until = 0.0

    def nudge(self, bind: Engine | sa.Connection, event_ids: Sequence[str]) -> int:
        """Publish the committed, still unpublished rows among `event_ids`; return how many."""
        if time.monotonic() < self.paused_until:
            return 0
        engine = bind if isinstance(bind, Engine) else bind.engine
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
