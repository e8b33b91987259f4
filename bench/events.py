"""Events per second through relay + worker, and post-to-handled latency at a steady rate.

    python bench/events.py [--events 3000] [--rate 50] [--seconds 10] [--only embedded|server]

Two setups: the embedded default (SQLite + filesystem://) and PostgreSQL + RabbitMQ (when
BENCH_DATABASE_URL / BENCH_BROKER_URL, by default the local servers, answer). Each runs:

- pipeline throughput: N events committed to the outbox at once; a worker process (relay +
  consumer, a no-op handler, the inbox, publisher confirms on RabbitMQ) handles them all;
- pipeline latency: one event per web-like transaction at --rate per second (the nudge
  publishes after each commit); latency = commit start to the worker's ack;
- a bare kombu baseline in the same run: the same number of persistent JSON messages,
  published as fast as possible (confirmed per batch of 200 on RabbitMQ, as the relay
  does), then at --rate (each confirmed), to a consumer process that acks each one. It
  uses the app's connection settings, so on filesystem:// it also gets the whole-message
  writes (kombu's own transport can hand a half-written file to a consumer, which loses it).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

BATCH = 200  # the relay's default batch (EVENTS_RELAY_BATCH)
LOGS = Path(__file__).resolve().parent / "results" / "events-logs"  # kept after the run
GOALS = {
    "embedded": {"events_per_s": 100, "p95_ms": 1500},
    "server": {"events_per_s": 300, "p95_ms": 250},
}


# ---------------------------------------------------------------- child processes


def noop(session: Any, event: Any) -> None:
    """The benchmark's handler: the cost measured is the backbone's own."""


BENCH_ROUTES = {"bench": ("offer.posted",)}


def run_pipeline_worker() -> int:
    """Child: relay + consumer with the no-op handler; one `event_id time` line per ack."""
    from coalition import create_app
    from worker.runner import Worker

    app = create_app()
    out = Path(os.environ["BENCH_OUT"]).open("a", buffering=1)  # noqa: SIM115 - for the run
    table = {"bench": {"offer.posted": [noop]}}

    def on_processed(group: str, result: Any) -> None:
        if result.outcome == "done":
            out.write(f"{result.event_id} {time.time()}\n")

    worker = Worker(app, table, ["consume", "relay"], jobs=(), on_processed=on_processed)
    worker.start()
    Path(os.environ["BENCH_READY"]).touch()
    while not Path(os.environ["BENCH_STOP"]).exists():
        time.sleep(0.1)
    worker.request_stop()
    worker.join(30)
    return 0


def run_baseline_consumer() -> int:
    """Child: a bare kombu consumer that acks each message and logs its arrival."""
    from kombu import Consumer, Queue

    from coalition.events.broker import connect

    out = Path(os.environ["BENCH_OUT"]).open("a", buffering=1)  # noqa: SIM115 - for the run
    queue = Queue(os.environ["BENCH_QUEUE"], durable=True)

    def on_message(body: Any, message: Any) -> None:
        message.ack()
        out.write(f"{body['id']} {time.time()}\n")

    with (
        connect(os.environ) as conn,
        Consumer(conn, queues=[queue], callbacks=[on_message], accept=["json"], prefetch_count=64),
    ):
        Path(os.environ["BENCH_READY"]).touch()
        while not Path(os.environ["BENCH_STOP"]).exists():
            with contextlib.suppress(TimeoutError):
                conn.drain_events(timeout=0.2)
    return 0


# ---------------------------------------------------------------- the parent


class Child:
    """A child process of this script, with its ready, stop and output files."""

    def __init__(self, role: str, env: dict[str, str], folder: Path) -> None:
        tag = uuid.uuid4().hex[:8]
        self.out, self.ready, self.stop = (
            folder / f"{role}-{tag}.{x}" for x in ("out", "ready", "stop")
        )
        self.out.touch()
        environ = {
            **os.environ,
            **env,
            "BENCH_OUT": str(self.out),
            "BENCH_READY": str(self.ready),
            "BENCH_STOP": str(self.stop),
        }
        LOGS.mkdir(parents=True, exist_ok=True)
        self.log = (LOGS / f"{role}-{tag}.log").open("w")
        self.process = subprocess.Popen(
            [sys.executable, __file__, f"_{role}"],
            env=environ,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        wait(lambda: self.ready.exists() or self.process.poll() is not None, 60)
        if self.process.poll() is not None:
            raise SystemExit(f"{role} process failed, see {self.log.name}")

    def arrivals(self) -> dict[str, float]:
        """Event id -> arrival time, so far."""
        first: dict[str, float] = {}
        for line in self.out.read_text().splitlines():
            if line.count(" ") == 1:
                key, at = line.split()
                first.setdefault(key, float(at))
        return first

    def close(self) -> None:
        self.stop.touch()
        self.process.wait(60)
        self.log.close()


def wait(predicate: Any, timeout: float) -> None:
    """Poll until true or the timeout passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not predicate():
        time.sleep(0.02)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0–100) of the values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def throughput(child: Child, send_all: Any, n: int) -> float:
    """Events per second from the first send to the last arrival."""
    started = time.time()
    send_all()
    wait(lambda: len(child.arrivals()) >= n, 600)
    arrivals = child.arrivals()
    if len(arrivals) < n:
        raise SystemExit(f"only {len(arrivals)} of {n} events arrived")
    return n / (max(arrivals.values()) - started)


def latency(child: Child, send_one: Any, rate: float, seconds: float) -> tuple[float, float]:
    """p50 and p95 (ms) from send to arrival, sending `rate` per second for `seconds`."""
    sent: dict[str, float] = {}
    interval = 1.0 / rate
    next_at = time.monotonic()
    for _ in range(int(rate * seconds)):
        time.sleep(max(next_at - time.monotonic(), 0))
        next_at += interval
        event_id, at = send_one()
        sent[event_id] = at
    wait(lambda: set(sent) <= set(child.arrivals()), 120)
    arrivals = child.arrivals()
    values = [(arrivals[k] - at) * 1000 for k, at in sent.items() if k in arrivals]
    if len(values) < len(sent):
        raise SystemExit(f"only {len(values)} of {len(sent)} events arrived")
    return statistics.median(values), percentile(values, 95)


def make_app(config: dict[str, Any]) -> Any:
    """The app the benchmark posts through, with its tables."""
    from coalition import create_app
    from coalition.extensions import db

    app = create_app(config)
    with app.app_context():
        db.create_all()
    return app


def bench_pipeline(
    setup: dict[str, Any], folder: Path, args: argparse.Namespace
) -> dict[str, float]:
    """Throughput and latency of outbox → relay/nudge → broker → consumer → inbox."""
    from coalition.events.extension import use_routes
    from coalition.events.outbox import emit
    from coalition.extensions import db

    config = setup["config"]
    app = make_app({**config, "EVENTS_NUDGE": False})
    use_routes(app, BENCH_ROUTES)
    # the relay takes rows at once (grace 0): the throughput run has no nudge to wait for
    env = {
        "DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"],
        "EVENTS_NUDGE": "0",
        **{k: str(v) for k, v in config.items() if k.startswith("BROKER_")},
    }
    child = Child("pipeline_worker", env, folder)
    try:
        with app.app_context():

            def send_all() -> None:
                for i in range(args.events):
                    emit(db.session, "offer.posted", {"id": i}, "bench")
                db.session.commit()

            rate = throughput(child, send_all, args.events)
            app.config["EVENTS_NUDGE"] = True

            def send_one() -> tuple[str, float]:
                at = time.time()
                event_id = emit(db.session, "offer.posted", {"id": 0}, "bench").event_id
                db.session.commit()  # the nudge publishes right after this commit
                return event_id, at

            p50, p95 = latency(child, send_one, args.rate, args.seconds)
    finally:
        child.close()
        _dispose(app)
    return {"events_per_s": rate, "p50_ms": p50, "p95_ms": p95}


def _dispose(app: Any) -> None:
    """Close the app's database connections."""
    from coalition.events import extension
    from coalition.extensions import db

    extension.reset(app)
    with app.app_context():
        db.engine.dispose()


def bench_baseline(
    setup: dict[str, Any], folder: Path, args: argparse.Namespace
) -> dict[str, float]:
    """The same message counts through bare kombu: persistent, confirmed on RabbitMQ."""
    from kombu import Connection, Producer, Queue

    from coalition.events.broker import connect, is_amqp
    from coalition.events.publisher import Confirms

    config = setup["config"]
    queue_name = f"{config['BROKER_NAMESPACE']}.baseline"
    env = {
        "BROKER_URL": config["BROKER_URL"],
        "BROKER_FOLDER": config["BROKER_FOLDER"],
        "BENCH_QUEUE": queue_name,
    }
    child = Child("baseline_consumer", env, folder)
    conn: Connection = connect(config)
    try:
        channel = conn.channel()
        Queue(queue_name, durable=True)(channel).declare()
        producer = Producer(channel, serializer="json")
        confirms = Confirms(channel) if is_amqp(config["BROKER_URL"]) else None

        def send(i: int) -> tuple[str, float]:
            at, event_id = time.time(), str(uuid.uuid4())
            producer.publish(
                {"id": event_id, "type": "offer.posted", "data": {"id": i}},
                routing_key=queue_name,
                delivery_mode=2,
            )
            if confirms is not None:
                confirms.sent += 1
            return event_id, at

        def confirmed(batch: range) -> None:
            start = confirms.sent if confirms else 0
            for i in batch:
                send(i)
            if confirms is not None:
                confirms.wait(start, 30)

        def send_all() -> None:
            for first in range(0, args.events, BATCH):
                confirmed(range(first, min(first + BATCH, args.events)))

        def send_one() -> tuple[str, float]:
            start = confirms.sent if confirms else 0
            sent = send(0)
            if confirms is not None:
                confirms.wait(start, 30)
            return sent

        rate = throughput(child, send_all, args.events)
        p50, p95 = latency(child, send_one, args.rate, args.seconds)
        Queue(queue_name)(channel).delete()
    finally:
        conn.release()
        child.close()
    return {"events_per_s": rate, "p50_ms": p50, "p95_ms": p95}


def embedded_setup(folder: Path) -> dict[str, Any]:
    """SQLite in WAL mode and filesystem://, in a temporary folder."""
    return {
        "name": "embedded",
        "label": "SQLite + filesystem://",
        "config": {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.db'}",
            "BROKER_URL": "filesystem://",
            "BROKER_FOLDER": str(folder / "queue"),
            "BROKER_NAMESPACE": "bench",
        },
    }


def server_setup() -> dict[str, Any] | None:
    """A fresh PostgreSQL database and a RabbitMQ namespace, when both answer."""
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    from scripts.services_up import broker_up, database_up

    base = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    amqp = os.environ.get("BENCH_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
    if not (database_up(base) and broker_up(amqp)):
        return None
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text('DROP DATABASE IF EXISTS "coalition_bench" WITH (FORCE)'))
        conn.execute(sa.text('CREATE DATABASE "coalition_bench"'))
    admin.dispose()
    url = make_url(base).set(database="coalition_bench").render_as_string(hide_password=False)
    return {
        "name": "server",
        "label": "PostgreSQL + RabbitMQ",
        "config": {
            "SQLALCHEMY_DATABASE_URI": url,
            "BROKER_URL": amqp,
            "BROKER_FOLDER": "",
            "BROKER_NAMESPACE": f"bench-{uuid.uuid4().hex[:8]}",
        },
    }


def cleanup_server(setup: dict[str, Any]) -> None:
    """Remove the benchmark's queues and exchanges from RabbitMQ."""
    from coalition.events.broker import connect
    from coalition.events.topology import Topology

    topology = Topology.from_config(setup["config"], BENCH_ROUTES)
    with connect(setup["config"]) as conn:
        topology.delete(conn.default_channel)


def report(results: list[dict[str, Any]], args: argparse.Namespace) -> None:
    """Print the table, with ratios to the baseline and the goals."""
    print(f"\nevents: {args.events} for throughput; {args.rate}/s for {args.seconds} s for latency")
    header = f"{'setup':<24}{'path':<22}{'events/s':>10}{'p50 ms':>10}{'p95 ms':>10}"
    print(header + "   vs bare kombu (throughput, p95)   goal")
    for result in results:
        base, pipe, goal = result["baseline"], result["pipeline"], GOALS[result["name"]]
        print(
            f"{result['label']:<24}{'bare kombu':<22}{base['events_per_s']:>10.0f}"
            f"{base['p50_ms']:>10.1f}{base['p95_ms']:>10.1f}"
        )
        met = pipe["events_per_s"] >= goal["events_per_s"] and pipe["p95_ms"] < goal["p95_ms"]
        print(
            f"{'':<24}{'outbox+relay+inbox':<22}{pipe['events_per_s']:>10.0f}"
            f"{pipe['p50_ms']:>10.1f}{pipe['p95_ms']:>10.1f}"
            f"   {pipe['events_per_s'] / base['events_per_s']:>6.2f}x, "
            f"{pipe['p95_ms'] / max(base['p95_ms'], 0.001):>6.1f}x"
            f"              >= {goal['events_per_s']}/s, p95 < {goal['p95_ms']} ms: "
            f"{'met' if met else 'NOT met'}"
        )
    print(json.dumps(results, default=str))


def main() -> int:
    """Run the setups that are reachable and print the table."""
    if len(sys.argv) > 1 and sys.argv[1] in {"_pipeline_worker", "_baseline_consumer"}:
        return (
            run_pipeline_worker() if sys.argv[1] == "_pipeline_worker" else run_baseline_consumer()
        )
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--only", choices=["embedded", "server"])
    args = parser.parse_args()
    import logging

    logging.basicConfig(level=logging.WARNING)
    results = []
    with tempfile.TemporaryDirectory(prefix="coalition-bench-") as tmp:
        folder = Path(tmp)
        setups = []
        if args.only != "server":
            setups.append(embedded_setup(folder / "embedded"))
        if args.only != "embedded":
            server = server_setup()
            if server is None:
                print("PostgreSQL or RabbitMQ unreachable: server setup skipped")
            else:
                setups.append(server)
        for setup in setups:
            (folder / setup["name"]).mkdir(parents=True, exist_ok=True)
            try:
                print(f"{setup['label']}: bare kombu …", file=sys.stderr, flush=True)
                baseline = bench_baseline(setup, folder / setup["name"], args)
                print(f"{setup['label']}: outbox + relay + worker …", file=sys.stderr, flush=True)
                pipeline = bench_pipeline(setup, folder / setup["name"], args)
            finally:
                if setup["name"] == "server":
                    cleanup_server(setup)
            results.append({**setup, "config": None, "baseline": baseline, "pipeline": pipeline})
    report(results, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
