"""The kombu consumer: one durable queue per handler group, ack only after the commit."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from flask import Flask
from kombu import Connection, Consumer, Producer
from kombu.message import Message
from kombu.mixins import ConsumerMixin

from coalition.events import broker, metrics
from coalition.events.topology import HandlerTable, Topology
from coalition.extensions import db
from worker.processing import Outcome, Result, RetryPolicy, process

log = logging.getLogger("worker.consumer")

OnProcessed = Callable[[str, Result], None]


class EventConsumer(ConsumerMixin):
    """Consumes every group queue of a handler table (or the groups named) on one connection."""

    connect_max_retries = 5

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
        self.topology = Topology.from_config(app.config, handlers)
        self.groups = list(groups or self.topology.groups)
        self.policy = RetryPolicy.from_config(app.config)
        self.prefetch = int(app.config.get("BROKER_PREFETCH", 64))
        self.stop = stop or threading.Event()
        self.on_processed = on_processed
        self.connection: Connection = broker.connect(app.config)
        self.requeues = 0

    @property  # type: ignore[override]
    def should_stop(self) -> bool:
        """ConsumerMixin checks this between messages: stop after the one in hand."""
        return self.stop.is_set()

    @should_stop.setter
    def should_stop(self, value: bool) -> None:
        if value:
            self.stop.set()

    def get_consumers(self, consumer_cls: type[Consumer], channel: Any) -> list[Consumer]:
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

    def on_message(self, group: str, body: Any, message: Message) -> None:
        """Process one message in its own transaction, then ack (or requeue it)."""
        if self.stop.is_set():
            # prefetched messages still arrive while the consumers are being cancelled
            message.requeue()
            return
        started = time.perf_counter()
        with self.app.app_context():
            try:
                result = process(db.session, group, body, self.handlers, self.policy)
            finally:
                db.session.remove()
        if result.outcome is Outcome.DEAD:
            self._copy_to_dead_letters(message, body, group, result.error)
        self._settle(message, result)
        elapsed = time.perf_counter() - started
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

    def _settle(self, message: Message, result: Result) -> None:
        """Ack after the commit; requeue (after a pause) when nothing could be committed."""
        if result.outcome is not Outcome.REQUEUE:
            self.requeues = 0
            message.ack()
            return
        self.requeues += 1
        self.stop.wait(min(0.25 * 2 ** min(self.requeues, 5), 5.0))
        message.requeue()

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
