"""Sending a batch of digests on a second thread while the next one renders."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from coalition.notify.digest.mime import Rendered
from coalition.notify.smtp import DeliveryError, Mailer

log = logging.getLogger("coalition.mail")


UNTRIED = "untried"


@dataclass(frozen=True)
class Outcome:
    """What became of one message handed to the pipeline: `error` None means accepted."""

    key: Any
    message: Rendered
    error: DeliveryError | None


class Pipeline:
    """Deliver on a second thread, so the next digest renders while the server takes this one.

    Messages go out in order over the mailer's one connection. Once the connection breaks,
    the rest come back untried. Only the caller's thread touches the database.
    """

    def __init__(self, mailer: Mailer, depth: int = 16) -> None:
        self.mailer = mailer
        self.todo: queue.Queue[tuple[Any, Rendered] | None] = queue.Queue(maxsize=depth)
        self.done: queue.Queue[Outcome] = queue.Queue()
        self.broken = threading.Event()
        self.thread = threading.Thread(target=self._work, name="digest-smtp", daemon=True)
        self.thread.start()

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is not None:  # the caller cannot record outcomes: send nothing more
            self.broken.set()
        self.close()

    def submit(self, key: Any, message: Rendered) -> None:
        """Queue a message (waits while the queue is full)."""
        self.todo.put((key, message))

    def outcomes(self) -> list[Outcome]:
        """The outcomes known so far."""
        ready = []
        while True:
            try:
                ready.append(self.done.get_nowait())
            except queue.Empty:
                return ready

    def close(self) -> None:
        """Finish what is queued."""
        if self.thread.is_alive():
            self.todo.put(None)
            self.thread.join()

    def _work(self) -> None:
        """Send until told to stop."""
        while (item := self.todo.get()) is not None:
            key, message = item
            self.done.put(Outcome(key, message, self._send(message)))

    def _send(self, message: Rendered) -> DeliveryError | None:
        """One delivery attempt, unless the connection is already gone."""
        if self.broken.is_set():
            return DeliveryError(UNTRIED, "not tried: the connection was lost")
        try:
            self.mailer.send(message)
        except DeliveryError as error:
            if error.kind == "connection":
                self.broken.set()
            return error
        except Exception as exc:  # noqa: BLE001 - the thread must live to report every message
            log.exception("unexpected error sending %s", message.message_id)
            return DeliveryError("transient", repr(exc))
        return None


def deliver_all(mailer: Mailer, messages: Iterable[Rendered]) -> int:
    """Send pre-rendered messages one after another (the benchmark's baseline)."""
    sent = 0
    for message in messages:
        mailer.send(message)
        sent += 1
    return sent
