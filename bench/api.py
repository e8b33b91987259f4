"""API throughput against bare Flask on the same gunicorn configuration.

Starts the project (`wsgi:app`) and a bare Flask app under gunicorn (2 workers x 4 threads),
loads each with a Python load generator (8 keep-alive connections in 2 processes) and prints
req/s, p50, p99 and the ratio to bare for:

- read:  `GET /api/v1/offers?page_size=20` with an organization's bearer token, against a bare
  Flask view returning 20 listing-sized JSON objects;
- write: `POST /api/v1/offers`, against a bare Flask view doing one INSERT and a commit on
  the same database engine.

On SQLite, and on PostgreSQL when `--postgres URL` is given (a schema of its own is made and
dropped). Goals: read >= 30 % of bare, write >= 25 % of bare.

    .venv/bin/python bench/api.py [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]
                                  [--seconds 5] [--profile]

`--profile` runs 300 reads and 100 writes in-process under pyinstrument instead and prints
where the time goes.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GUNICORN = [
    sys.executable, "-m", "gunicorn", "--workers", "2", "--threads", "4", "--no-control-socket",
]  # fmt: skip
CONNECTIONS = 8
PROCESSES = 2
READ_PATH = "/api/v1/offers?page_size=20"
WRITE_PATH = "/api/v1/offers"
GOALS = {"read": 0.30, "write": 0.25}
OFFER = {"category": "naloxone-nasal-4mg", "quantity": 10, "notes": "bench"}


# ---------------------------------------------------------------- the world


def project_env(folder: Path, database: str) -> dict[str, str]:
    """Environment the project's gunicorn runs with."""
    return {
        "DATABASE_URL": database,
        "SECRET_KEY": "bench-secret-key",
        "BROKER_URL": "filesystem://",
        "BROKER_FOLDER": str(folder / "queue"),
        "EVENTS_NUDGE": "0",
        "LOG_FORMAT": "text",
        "RATELIMIT_STORAGE_URI": "memory://",
    }


def build_world(env: dict[str, str], listings: int = 200) -> str:
    """Migrate the database, add two organizations and their listings; return a bearer token."""
    os.environ.update(env)
    from flask_migrate import upgrade

    from coalition import create_app
    from coalition.extensions import db
    from coalition.models.organizations import Organization, OrgStatus, OrgType
    from coalition.services import listings as service
    from coalition.services.accounts import issue_api_token
    from coalition.services.listing_input import CREATE_SCHEMAS

    app = create_app({"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        orgs = []
        for n in (1, 2):
            org = Organization(
                name=f"Bench {n}",
                slug=f"bench-{n}",
                type=OrgType.OTHER,
                lat=40.7 + n / 100,
                lon=-74.0,
                status=OrgStatus.ACTIVE,
            )
            db.session.add(org)
            orgs.append(org)
        db.session.flush()
        schema = CREATE_SCHEMAS["offer"]()  # type: ignore[index]
        for i in range(listings):
            data = schema.load({**OFFER, "quantity": 10 + i})
            service.post_listing(db.session, None, "offer", data, org=orgs[i % 2])
        _, token = issue_api_token(db.session, None, org=orgs[0], label="bench")
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return token


def postgres_schema(base: str) -> tuple[str, Any]:
    """A fresh schema of its own on the server; return its URL and a function dropping it."""
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    schema = f"bench_api_{os.getpid()}_{uuid.uuid4().hex[:6]}"

    def run(statement: str) -> None:
        engine = sa.create_engine(make_url(base), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text(statement))
        engine.dispose()

    run(f'CREATE SCHEMA "{schema}"')
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False), lambda: run(
        f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'
    )


# ---------------------------------------------------------------- servers


def free_port() -> int:
    """A free port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A gunicorn serving `app_spec`, started and stopped around one measurement."""

    def __init__(self, app_spec: str, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.log = log.open("w")
        self.process = subprocess.Popen(
            [*GUNICORN, "--bind", f"127.0.0.1:{self.port}", app_spec],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn {app_spec} failed, see {log}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.1)
        raise SystemExit(f"gunicorn {app_spec} did not start, see {log}")

    def close(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(30)
        self.log.close()


# ---------------------------------------------------------------- load


def _connection_loop(
    port: int, method: str, path: str, headers: dict[str, str], body: bytes | None, until: float
) -> list[float]:
    """Send requests back to back on one keep-alive connection; return their latencies."""
    latencies: list[float] = []
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while (started := time.perf_counter()) < until:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        if response.status >= 300:
            raise SystemExit(f"{method} {path} answered {response.status}")
        latencies.append(time.perf_counter() - started)
        if response.getheader("Connection", "").lower() == "close":
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.close()
    return latencies


def _load_process(args: tuple[Any, ...]) -> list[float]:
    """One load process: CONNECTIONS / PROCESSES threads, one connection each."""
    port, method, path, headers, body, start_at, until = args
    time.sleep(max(0.0, start_at - time.time()))
    until_perf = time.perf_counter() + (until - time.time())
    results: list[list[float]] = []
    errors: list[str] = []

    def run() -> None:
        try:
            results.append(_connection_loop(port, method, path, headers, body, until_perf))
        except BaseException as error:  # reported by the parent
            errors.append(repr(error))

    threads = [threading.Thread(target=run) for _ in range(CONNECTIONS // PROCESSES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"{method} {path}: {errors[0]}")
    return [x for r in results for x in r]


def cpu_seconds(master: int) -> float:
    """User + system CPU seconds of a gunicorn master's worker processes so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    total = 0.0
    for pid in children:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def load(server: Server, method: str, path: str, headers: dict[str, str], body: bytes | None,
         seconds: float, warmup: float = 1.0) -> dict[str, float]:  # fmt: skip
    """Warm up, then measure req/s, p50 and p99 (ms) with 8 connections, and the server's
    CPU ms per request (steadier than req/s on a machine others are using)."""
    port = server.port
    with multiprocessing.get_context("fork").Pool(PROCESSES) as pool:
        now = time.time() + 0.2
        warm = (port, method, path, headers, body, now, now + warmup)
        pool.map(_load_process, [warm] * PROCESSES)
        now = time.time() + 0.2
        job = (port, method, path, headers, body, now, now + seconds)
        cpu = cpu_seconds(server.process.pid)
        latencies = [x for part in pool.map(_load_process, [job] * PROCESSES) for x in part]
        cpu = cpu_seconds(server.process.pid) - cpu
    latencies.sort()
    return {
        "rps": len(latencies) / seconds,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[int(0.99 * (len(latencies) - 1))] * 1000,
        "cpu_ms": cpu * 1000 / max(len(latencies), 1),
    }


# ---------------------------------------------------------------- the run


def measure(database: str, folder: Path, seconds: float) -> dict[str, dict[str, Any]]:
    """Both apps, read and write, on one database."""
    env = project_env(folder, database)
    token = _in_child(build_world, env)
    auth = {"Authorization": f"Bearer {token}"}
    post_headers = {**auth, "Content-Type": "application/json"}
    body = json.dumps(OFFER).encode()
    bare_env = {"BENCH_BARE_DATABASE": database}
    _in_child(_bare_table, database)
    results: dict[str, dict[str, Any]] = {}
    for name, spec, server_env, paths in (
        ("project", "wsgi:app", env, (READ_PATH, WRITE_PATH)),
        ("bare", "bench.bare_app:app", bare_env, ("/read", "/write")),
    ):
        server = Server(spec, server_env, folder / f"{name}.log")
        try:
            results.setdefault("read", {})[name] = load(
                server, "GET", paths[0], auth, None, seconds
            )
            results.setdefault("write", {})[name] = load(
                server, "POST", paths[1], post_headers, body, seconds
            )
        finally:
            server.close()
    return results


def _bare_table(database: str) -> None:
    """The bare app's table, made before its workers start."""
    os.environ["BENCH_BARE_DATABASE"] = database
    from bench import bare_app

    bare_app.metadata.create_all(bare_app.engine)
    bare_app.engine.dispose()


def _in_child(function: Any, *args: Any) -> Any:
    """Run `function` in a forked process (the app and its engines stay out of this one)."""
    with multiprocessing.get_context("fork").Pool(1) as pool:
        return pool.apply(function, args)


def report(engine: str, results: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Print one table block; return its rows."""
    rows = []
    for kind in ("read", "write"):
        project, bare = results[kind]["project"], results[kind]["bare"]
        ratio = project["rps"] / bare["rps"]
        goal = GOALS[kind]
        met = "met" if ratio >= goal else "NOT met"
        print(
            f"{engine:<10} {kind:<5} project {project['rps']:8.0f} req/s"
            f" p50 {project['p50']:6.1f} ms p99 {project['p99']:6.1f} ms | bare"
            f" {bare['rps']:8.0f} req/s p50 {bare['p50']:6.1f} ms p99 {bare['p99']:6.1f} ms"
            f" | ratio {ratio:6.1%} (goal >= {goal:.0%}: {met})"
            f" | server CPU ms/req {project['cpu_ms']:.2f} vs bare {bare['cpu_ms']:.2f}"
            f" (CPU ratio {bare['cpu_ms'] / max(project['cpu_ms'], 1e-9):.1%})"
        )
        rows.append({"engine": engine, "kind": kind, "project": project, "bare": bare,
                     "ratio": ratio, "goal": goal, "met": ratio >= goal})  # fmt: skip
    return rows


def profile(folder: Path) -> None:
    """Reads and writes in-process under pyinstrument (SQLite)."""
    from pyinstrument import Profiler

    env = project_env(folder, f"sqlite:///{folder / 'profile.db'}")
    token = _in_child(build_world, env)
    os.environ.update(env)
    from coalition import create_app

    app = create_app()
    client = app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    for _ in range(20):
        client.get(READ_PATH, headers=auth)
    for label, call, n in (
        ("read", lambda: client.get(READ_PATH, headers=auth), 300),
        ("write", lambda: client.post(WRITE_PATH, json=OFFER, headers=auth), 100),
    ):
        profiler = Profiler(interval=0.0005)
        started = time.perf_counter()
        with profiler:
            for _ in range(n):
                assert call().status_code < 300
        per = (time.perf_counter() - started) / n * 1000
        print(f"== {label}: {per:.2f} ms per request in-process")
        print(profiler.output_text(unicode=False, color=False, short_mode=True, show_all=False))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="also run on this PostgreSQL URL (a schema is made)")
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds per load")
    parser.add_argument("--profile", action="store_true", help="profile in-process instead")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        folder = Path(tmp)
        if args.profile:
            profile(folder)
            return 0
        print(f"load: {os.getloadavg()[0]:.2f} (1-min average) on {os.cpu_count()} cores")
        rows = report("sqlite", measure(f"sqlite:///{folder / 'api.db'}", folder, args.seconds))
        if args.postgres:
            url, drop = postgres_schema(args.postgres)
            try:
                rows += report("postgresql", measure(url, folder, args.seconds))
            finally:
                drop()
        print(json.dumps({"results": rows, "all_met": all(r["met"] for r in rows)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
