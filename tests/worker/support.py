"""Shared by the event and worker tests: broker setups, an effects table, handlers, a TCP proxy."""

from __future__ import annotations

import collections
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from kombu import Connection
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from coalition.events import broker, extension
from coalition.events.envelope import Event
from coalition.events.names import ROUTES
from coalition.events.topology import Topology
from coalition.extensions import db
from worker.routing import HandlerTable, routes_of

IN_CI = os.environ.get("CI", "").lower() == "true"
RABBITMQ_URL = os.environ.get("TEST_BROKER_URL", "")

# The effect a test handler leaves, written in the consumer's transaction.
effects_metadata = sa.MetaData()
effects = sa.Table(
    "test_effects",
    effects_metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("event_id", sa.String(36), nullable=False),
    sa.Column("grp", sa.String(80), nullable=False),
)


def require_rabbitmq() -> str:
    """The RabbitMQ URL; skip without one, except in CI's server leg where that is a failure.

    The server leg is the run with TEST_DATABASE_URL; `make test` gives it TEST_BROKER_URL.
    """
    if RABBITMQ_URL:
        return RABBITMQ_URL
    if IN_CI and os.environ.get("TEST_DATABASE_URL"):
        pytest.fail("CI=true but TEST_BROKER_URL is not set: RabbitMQ tests cannot be skipped")
    pytest.skip("TEST_BROKER_URL not set (the server leg of `make test` runs RabbitMQ tests)")


def unique_namespace() -> str:
    """Exchange and queue prefix of one test: parallel runs never share a queue."""
    return f"t-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-{uuid.uuid4().hex[:10]}"


def broker_overrides(kind: str, tmp_path: Path) -> dict[str, Any]:
    """Config for one test's broker: a fresh folder, or a fresh RabbitMQ namespace."""
    url = "filesystem://" if kind == "filesystem" else require_rabbitmq()
    return {
        "BROKER_URL": url,
        "BROKER_FOLDER": str(tmp_path / "queue"),
        "BROKER_NAMESPACE": unique_namespace(),
        "BROKER_POLLING_INTERVAL": 0.02,
        "BROKER_PUBLISH_TIMEOUT": 2.0,
        "EVENTS_NUDGE": False,
        "EVENTS_NUDGE_TIMEOUT": 0.5,
        "EVENTS_NUDGE_PAUSE": 0.0,
        "EVENTS_RELAY_GRACE": 0.0,
        "EVENTS_RELAY_INTERVAL": 0.05,
        "EVENTS_RETRY_BASE": 0.05,
        "EVENTS_RETRY_MAX": 0.2,
        "EVENTS_MAX_ATTEMPTS": 3,
        "EVENTS_SWEEP_AGE": 3600.0,
        "EVENTS_SWEEP_INTERVAL": 3600.0,
        "RECONCILE_INTERVAL": 3600.0,
        "EXPIRY_INTERVAL": 3600.0,
    }


@contextmanager
def configured(app: Any, overrides: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Apply config overrides to the test app for one test, then restore them."""
    saved = {key: app.config.get(key) for key in overrides}
    app.config.update(overrides)
    extension.reset(app)
    try:
        yield overrides
    finally:
        extension.use_routes(app, ROUTES)
        app.config.update(saved)


def delete_topology(config: dict[str, Any], handlers: HandlerTable) -> None:
    """Remove a test namespace's queues and exchanges from RabbitMQ."""
    if not broker.is_amqp(config["BROKER_URL"]):
        return
    with broker.connect(config) as conn:
        Topology.from_config(config, routes_of(handlers)).delete(conn.default_channel)


def queue_depth(config: dict[str, Any], handlers: HandlerTable, group: str) -> int:
    """Messages ready in a group's queue."""
    topology = Topology.from_config(config, routes_of(handlers))
    with broker.connect(config) as conn:
        declared = topology.group_queue(group)(conn.default_channel).queue_declare(passive=True)
        return int(declared.message_count)


def relay_retries(config: dict[str, Any], handlers: HandlerTable) -> int:
    """One relay pass over the due retries (replays among them); how many it published."""
    from coalition.events.relay import publish_due_retries, relay_publisher

    relay = relay_publisher(config, routes_of(handlers))
    try:
        return publish_due_retries(db.session, relay, config)
    finally:
        relay.close()


# ---------------------------------------------------------------- effects and handlers


def create_effects() -> None:
    """Create the effects table (outside the app's metadata, so migrations never see it)."""
    effects_metadata.create_all(db.engine)
    with db.engine.begin() as conn:
        conn.execute(effects.delete())


def effect_counts(group: str | None = None) -> collections.Counter[str]:
    """How many effects each event left (in one group, or in all)."""
    query = sa.select(effects.c.event_id)
    if group:
        query = query.where(effects.c.grp == group)
    with db.engine.connect() as conn:
        return collections.Counter(conn.scalars(query).all())


def recorder(group: str) -> Callable[[Session, Event], None]:
    """A handler whose effect is one effects row, in the consumer's transaction."""

    def record_effect(session: Session, event: Event) -> None:
        session.execute(effects.insert().values(event_id=event.id, grp=group))

    return record_effect


def effects_table(
    group: str = "effects", types: tuple[str, ...] = ("offer.posted",)
) -> HandlerTable:
    """A handler table with one recording group."""
    handler = recorder(group)
    return {group: {t: [handler] for t in types}}


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0, interval: float = 0.05) -> Any:
    """Poll until `predicate()` is truthy; fail the test on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {predicate}")


def scalar(query: Any) -> Any:
    """Run a query on a fresh connection (not the test's session)."""
    with db.engine.connect() as conn:
        return conn.execute(query).scalar()


# ---------------------------------------------------------------- a TCP proxy to cut servers off


class Proxy:
    """Forwards a local port to a server; `cut()` drops every connection and refuses new ones."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.up = threading.Event()
        self.up.set()
        self.closed = False
        self.pairs: list[tuple[socket.socket, socket.socket]] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def url_for(self, url: str) -> str:
        """The same URL, pointed at the proxy."""
        if url.startswith("amqp://"):
            rest = url.split("@", 1)
            creds, tail = rest if len(rest) == 2 else ("amqp://", rest[0])
            vhost = tail.split("/", 1)[1] if "/" in tail else ""
            return f"{creds}@127.0.0.1:{self.port}/{vhost}"
        return (
            make_url(url)
            .set(host="127.0.0.1", port=self.port)
            .render_as_string(hide_password=False)
        )

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up.is_set():
                client.close()
                continue
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.pairs.append((client, server))
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()

    def _pump(self, client: socket.socket, server: socket.socket) -> None:
        sockets = [client, server]
        try:
            while self.up.is_set():
                ready, _, _ = select.select(sockets, [], [], 0.1)
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (server if sock is client else client).sendall(data)
        except OSError:
            return
        finally:
            for sock in sockets:
                _close(sock)

    def cut(self) -> None:
        """Drop every open connection and refuse new ones until `restore()`."""
        self.up.clear()
        with self.lock:
            pairs, self.pairs = self.pairs, []
        for client, server in pairs:
            _close(client)
            _close(server)

    def restore(self) -> None:
        """Accept and forward connections again."""
        self.up.set()

    def close(self) -> None:
        """Stop the proxy."""
        self.closed = True
        self.cut()
        _close(self.listener)


def _close(sock: socket.socket) -> None:
    """Shut a socket down hard, ignoring errors."""
    with suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


# ---------------------------------------------------------------- one test's event bus


class Bus:
    """The test app wired to one test's broker: record events, run workers, cut the broker."""

    def __init__(self, app: Any, kind: str, proxy: Proxy | None, direct_url: str) -> None:
        self.app = app
        self.kind = kind
        self.proxy = proxy
        self.direct_url = direct_url
        self.tables: list[HandlerTable] = []
        self.workers: list[Any] = []

    @property
    def messages_folder(self) -> Path:
        """Where filesystem:// keeps the messages."""
        return Path(self.app.config["BROKER_FOLDER"]) / "messages"

    def cut(self) -> None:
        """Make the broker unreachable: the proxy drops RabbitMQ, the folder goes away."""
        if self.proxy is not None:
            self.proxy.cut()
            return
        broker.transport_options("filesystem://", self.app.config["BROKER_FOLDER"])
        self.messages_folder.rename(self.messages_folder.with_suffix(".away"))
        self.messages_folder.write_text("the broker is down")

    def restore(self) -> None:
        """Make the broker reachable again, with every message it held."""
        if self.proxy is not None:
            self.proxy.restore()
            return
        self.messages_folder.unlink()
        self.messages_folder.with_suffix(".away").rename(self.messages_folder)

    @property
    def config(self) -> Any:
        """The app's configuration, with this test's broker."""
        return self.app.config

    def use(self, table: HandlerTable) -> HandlerTable:
        """Route to `table`'s groups in the nudge, the CLI and the pages."""
        extension.use_routes(self.app, routes_of(table))
        self.tables.append(table)
        return table

    def start(
        self, table: HandlerTable, parts: tuple[str, ...] = ("consume", "relay"), **kw: Any
    ) -> Any:
        """Start worker threads on the test app."""
        from worker.runner import Worker

        self.tables.append(table)
        worker = Worker(self.app, table, parts, jobs=kw.pop("jobs", ()), **kw).start()
        self.workers.append(worker)
        return worker

    def record(self, n: int, event_type: str = "offer.posted") -> list[str]:
        """Record `n` events in one committed transaction; return their ids."""
        from coalition.events.outbox import emit

        ids = [emit(db.session, event_type, {"id": i}, "test").event_id for i in range(n)]
        db.session.commit()
        return ids

    def close(self) -> None:
        """Stop the workers, then remove the RabbitMQ namespace."""
        for worker in self.workers:
            worker.request_stop()
        for worker in self.workers:
            worker.join(30)
        if self.proxy is not None:
            self.proxy.close()
        for table in self.tables:
            delete_topology({**self.app.config, "BROKER_URL": self.direct_url}, table)


@contextmanager
def bus_for(app: Any, kind: str, tmp_path: Path) -> Iterator[Bus]:
    """A Bus on a fresh broker namespace, with an empty effects table."""
    overrides = broker_overrides(kind, tmp_path)
    direct_url = overrides["BROKER_URL"]
    proxy = None
    if kind == "rabbitmq":
        target = Connection(direct_url)
        proxy = Proxy(target.hostname or "127.0.0.1", target.port or 5672)
        overrides["BROKER_URL"] = proxy.url_for(direct_url)
    with configured(app, overrides):
        create_effects()
        bus = Bus(app, kind, proxy, direct_url)
        try:
            yield bus
        finally:
            bus.close()


# ---------------------------------------------------------------- worker processes

ROOT = Path(__file__).resolve().parents[2]


ENV_KEYS = (
    "BROKER_URL",
    "BROKER_FOLDER",
    "BROKER_NAMESPACE",
    "BROKER_POLLING_INTERVAL",
    "BROKER_PUBLISH_TIMEOUT",
    "EVENTS_NUDGE",
    "EVENTS_RELAY_GRACE",
    "EVENTS_RELAY_INTERVAL",
    "EVENTS_RETRY_BASE",
    "EVENTS_RETRY_MAX",
    "EVENTS_MAX_ATTEMPTS",
    "EVENTS_SWEEP_AGE",
    "EVENTS_SWEEP_INTERVAL",
)


START_TIMEOUT = 120.0


class WorkerProcess:
    """`python -m tests.worker.run_worker MODE PARTS` against the test database and broker."""

    def __init__(self, bus: Any, tmp_path: Path, mode: str, parts: str, **env: Any) -> None:
        self.markers = tmp_path / "markers"
        self.markers.mkdir(exist_ok=True)
        environ = {**os.environ, "SECRET_KEY": "fault-tests", "FAULT_MARKERS": str(self.markers)}
        environ["DATABASE_URL"] = env.pop("DATABASE_URL", bus.config["SQLALCHEMY_DATABASE_URI"])
        environ.update({key: str(bus.config[key]) for key in ENV_KEYS})
        environ.update({key: str(value) for key, value in env.items()})
        self.log = (tmp_path / f"worker-{mode}-{time.monotonic_ns()}.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.worker.run_worker", mode, parts],
            cwd=ROOT,
            env=environ,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        try:
            # start-up imports the whole app: slow on a loaded machine, hence the long wait
            ready = self.markers / f"ready-{self.process.pid}"
            wait_for(lambda: ready.exists() or self._died(), timeout=START_TIMEOUT)
        except BaseException:
            self.kill()  # never leave a worker running behind a failed start
            self.log.close()
            raise

    def _died(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"worker exited with {self.process.returncode}: {self.output()}")
        return False

    def output(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text()[-4000:]

    def reached(self, marker: str) -> bool:
        return (self.markers / marker).exists() or self._died()

    def kill(self) -> None:
        """SIGKILL: no cleanup of any kind."""
        self.process.kill()
        self.process.wait(10)

    def terminate(self) -> int:
        """SIGTERM, and the exit code of the graceful stop."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(30)
        finally:
            self.log.close()


def spawn(workers: list[WorkerProcess], *args: Any, **kwargs: Any) -> WorkerProcess:
    """Start a worker process that the `workers` fixture kills at the end of the test."""
    worker = WorkerProcess(*args, **kwargs)
    workers.append(worker)
    return worker
