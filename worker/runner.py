"""Run the consumer, the relay and the scheduler as threads of one process, and stop them."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence

from flask import Flask

from coalition.backoff import Backoff
from coalition.events.relay import Relay, relay_publisher
from coalition.events.sweeper import recover_on_start
from coalition.extensions import db
from coalition.models.base import utcnow
from worker.consumer import EventConsumer, OnProcessed
from worker.jobs import JOBS, Job
from worker.routing import HandlerTable, routes_of
from worker.schedule import Scheduler

log = logging.getLogger("worker")

PARTS = ("consume", "relay", "schedule")
RESTART_BACKOFF = Backoff(0.5, 10.0)


class Worker:
    """Some or all of the worker's parts, sharing one stop flag."""

    def __init__(
        self,
        app: Flask,
        handlers: HandlerTable,
        parts: Sequence[str] = PARTS,
        *,
        groups: Iterable[str] | None = None,
        jobs: tuple[Job, ...] = JOBS,
        on_processed: OnProcessed | None = None,
    ) -> None:
        self.app = app
        self.stop = threading.Event()
        self.parts = list(parts)
        self.handlers = handlers
        self.groups = groups
        self.jobs = jobs
        self.on_processed = on_processed
        self.threads: list[threading.Thread] = []
        self.started = utcnow()
        self.recovered = False

    def _target(self, part: str) -> Callable[[], None]:
        """The loop of one part (a fresh consumer after each broker failure)."""
        if part == "relay":
            relay = Relay(self.app, routes_of(self.handlers))
            return lambda: relay.run(self.stop)
        if part == "schedule":
            scheduler = Scheduler(self.app, routes_of(self.handlers), self.jobs)
            return lambda: scheduler.run(self.stop)

        def consume() -> None:
            self._recover_once()
            consumer = EventConsumer(
                self.app, self.handlers, self.groups, self.stop, self.on_processed
            )
            try:
                consumer.run()
            finally:
                consumer.connection.release()

        return consume

    def _recover_once(self) -> None:
        """Before consuming the first time: take back what a killed worker held."""
        if self.recovered:
            return
        self.recovered = True
        routes = routes_of(self.handlers)
        if self.groups is not None:
            routes = {group: routes[group] for group in self.groups if group in routes}
        publisher = relay_publisher(self.app.config, routes, path="recover")
        try:
            with self.app.app_context():
                try:
                    recover_on_start(db.session(), publisher, routes, self.app.config, self.started)
                finally:
                    db.session.remove()
        finally:
            publisher.close()

    def _supervise(self, part: str, target: Callable[[], None]) -> None:
        """Run a part until stopped; restart it after an unexpected failure."""
        crashes = 0
        while not self.stop.is_set():
            try:
                target()
            except Exception:  # noqa: BLE001 - log, wait, start the part again
                crashes += 1
                log.exception("worker part crashed, restarting", extra={"part": part})
                self.stop.wait(RESTART_BACKOFF.seconds(crashes))

    def start(self) -> Worker:
        """Start one thread per part."""
        for part in self.parts:
            target = self._target(part)
            thread = threading.Thread(
                target=self._supervise, args=(part, target), name=f"worker-{part}", daemon=True
            )
            thread.start()
            self.threads.append(thread)
        log.info("worker started", extra={"parts": self.parts})
        return self

    def request_stop(self) -> None:
        """Ask every part to finish what it holds and stop."""
        self.stop.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the parts to stop; True when all did."""
        for thread in self.threads:
            thread.join(timeout)
        stopped = not any(t.is_alive() for t in self.threads)
        log.info("worker stopped" if stopped else "worker parts still running")
        return stopped

    def __enter__(self) -> Worker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.request_stop()
        self.join(30)
