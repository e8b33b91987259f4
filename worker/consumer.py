"""The kombu consumer: one durable queue per handler group, ack only after the commit.

Messages are handled in small batches (BROKER_BATCH, one transaction and one commit for
all of them) because a commit costs a disk flush; a batch with anything unusual in it falls
back to one transaction per message.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import Any

from flask import Flask
from kombu import Connection, Consumer, Producer
from kombu.message import Message
from kombu.mixins import ConsumerMixin

from coalition.backoff import Backoff
from coalition.config import settings_of
from coalition.events import broker, metrics
from coalition.events.topology import Topology
from coalition.extensions import db
from worker.processing import Outcome, Result, RetryPolicy, process_batch
from worker.routing import HandlerTable, routes_of

log = logging.getLogger("worker.consumer")

OnProcessed = Callable[[str, Result], None]
# the pause while the database takes nothing: 0.5 s, 1 s, 2 s … up to 5 s
REQUEUE_BACKOFF = Backoff(0.5, 5.0)


class EventConsumer(ConsumerMixin):
    """Consumes every group queue of a handler table (or the groups named) on one connection."""

    connect_max_retries = 5  # type: ignore[assignment]

    def __init__(
        self,
        app: Flask,
        handlers: HandlerTable,
        groups: Iterable[str] | None = None,
        stop: threading.Event | None = None,
        on_processed: OnProcessed | None = None,
    ) -> None:
        self.app = app
        self.handlers = handlers
        self.topology = Topology.from_config(app.config, routes_of(handlers))
        self.groups = list(groups or self.topology.groups)
        self.policy = RetryPolicy.from_config(app.config)
        settings = settings_of(app.config)
        self.prefetch = settings.broker_prefetch
        self.stop = stop or threading.Event()
        self.on_processed = on_processed
        self.connection: Connection = broker.connect(app.config)
        self.requeues = 0
        self.batch_size = max(settings.broker_batch, 1)
        self.linger = settings.broker_linger
        self.held: list[tuple[str, Any, Message]] = []

    @property  # type: ignore[override]
    def should_stop(self) -> bool:
        """ConsumerMixin checks this between messages: stop after the one in hand."""
        return self.stop.is_set()

    @should_stop.setter
    def should_stop(self, value: bool) -> None:
        if value:
            self.stop.set()

    def get_consumers(self, consumer_cls: Callable[..., Consumer], channel: Any) -> list[Consumer]:
        """One kombu consumer per group, JSON only."""
        self.topology.dead_queue(channel).declare()
        return [
            consumer_cls(
                queues=[self.topology.group_queue(group)],
                callbacks=[partial(self.on_message, group)],
                accept=["json"],
                prefetch_count=self.prefetch,
            )
            for group in self.groups
        ]

    def on_connection_error(self, exc: Exception, interval: float) -> None:
        """Log the broker being unreachable."""
        log.warning("broker unreachable, retrying", extra={"error": str(exc), "in": interval})

    def on_consume_ready(self, connection: Any, channel: Any, consumers: Any, **kw: Any) -> None:
        """Log that consuming started."""
        log.info("consuming", extra={"groups": self.groups})

    def consume(
        self,
        limit: int | None = None,
        timeout: float | None = None,
        safety_interval: float = 1,
        **kwargs: Any,
    ) -> Iterator[None]:
        """ConsumerMixin's loop, collecting messages into batches.

        A batch is handled when it is full or when no message came for `linger` seconds;
        whatever is held when the worker stops is handled before it stops.
        """
        with self.consumer_context(**kwargs) as (conn, _channel, _consumers):
            try:
                while not self.should_stop:
                    self._drain(conn, safety_interval)
                    yield
            finally:
                self.flush()

    def _drain(self, conn: Connection, safety_interval: float) -> None:
        """Wait for the next message; handle the held batch when it is full or idle."""
        try:
            conn.drain_events(timeout=self.linger if self.held else safety_interval)
        except TimeoutError:
            self.flush()
            conn.heartbeat_check()
            return
        if len(self.held) >= self.batch_size:
            self.flush()

    def on_message(self, group: str, body: Any, message: Message) -> None:
        """Hold a delivered message for the next batch of its group."""
        if self.stop.is_set():
            # prefetched messages still arrive while the consumers are being cancelled
            message.requeue()
            return
        if self.held and self.held[0][0] != group:
            self.flush()
        self.held.append((group, body, message))

    def flush(self) -> None:
        """Handle the held messages in one transaction, then ack (or requeue) each."""
        held, self.held = self.held, []
        if not held:
            return
        group = held[0][0]
        started = time.perf_counter()
        with self.app.app_context():
            try:
                results = process_batch(
                    db.session(), group, [body for _, body, _ in held], self.handlers, self.policy
                )
            finally:
                db.session.remove()
        elapsed = (time.perf_counter() - started) / len(held)
        self._pause_if_requeued(results)
        errors = [
            self._finish(group, body, message, result, elapsed)
            for (_, body, message), result in zip(held, results, strict=True)
        ]
        broken = next((error for error in errors if error is not None), None)
        if broken is not None:
            raise broken  # a dead connection: ConsumerMixin reconnects

    def _finish(
        self, group: str, body: Any, message: Message, result: Result, elapsed: float
    ) -> Exception | None:
        """Settle one message and account for it; return the settling error, if any."""
        if result.outcome is Outcome.DEAD:
            self._copy_to_dead_letters(message, body, group, result.error)
        error = self._settle(message, result)
        metrics.HANDLE_SECONDS.labels(group).observe(elapsed)
        metrics.HANDLED.labels(group, result.outcome.value).inc()
        log.info(
            "message settled",
            extra={
                "group": group,
                "event_id": result.event_id,
                "type": result.event_type,
                "outcome": result.outcome.value,
                "ms": round(elapsed * 1000, 2),
            },
        )
        if self.on_processed is not None:
            self.on_processed(group, result)
        return error

    def _settle(self, message: Message, result: Result) -> Exception | None:
        """Ack after the commit; requeue when nothing could be committed; return the error."""
        try:
            if result.outcome is Outcome.REQUEUE:
                message.requeue()
            else:
                message.ack()
        except Exception as exc:  # noqa: BLE001 - the broker redelivers; the inbox dedups
            log.warning("could not settle a message", extra={"error": repr(exc)})
            return exc
        return None

    def _pause_if_requeued(self, results: list[Result]) -> None:
        """Back off (longer each time) while the database cannot take anything."""
        if not any(r.outcome is Outcome.REQUEUE for r in results):
            self.requeues = 0
            return
        self.requeues += 1
        self.stop.wait(REQUEUE_BACKOFF.seconds(self.requeues))

    def _copy_to_dead_letters(self, message: Message, body: Any, group: str, error: str) -> None:
        """Also put the message on the broker's dead-letter queue (the database has it)."""
        try:
            Producer(message.channel).publish(
                body,
                exchange=self.topology.dead_exchange.name,
                routing_key=group,
                serializer="json",
                delivery_mode=2,
                headers={"x-group": group, "x-error": error[:500]},
            )
        except Exception:  # noqa: BLE001 - the dead_letters table is the record that counts
            log.warning("could not copy a dead letter to the broker", exc_info=True)
