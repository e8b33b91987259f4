"""Digest benchmark: 10,000 recipients rendered and delivered to a local SMTP server.

Run `.venv/bin/python bench/digests.py` (SQLite in a temporary folder) or add `--postgres`
(a scratch database on the PostgreSQL of `--pg-url`). The coalition it builds: 150
organizations around New York City, 9,000 members, 20 coordinators and 980 people without an
account subscribed by email; 2,400 listings (300 of them posted in the last day, one in ten
for coordinators only), matches waiting, lots expiring, and what was handed over yesterday.
Subscribers filter the way people do: by kind, a few categories, a distance, their own
organization only, neutral wording.

The SMTP server (aiosmtpd) runs in its own process, so it does not share this one's core.
The figure is `flask digests send --now` from scheduling to the last commit; the baseline is
the same number of pre-rendered messages of the same size sent over one SMTP connection in
the same run. Goal: all 10,000 in under 60 s on 2 cores.
"""

from __future__ import annotations

import argparse
import random
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from common import database_url, insert, organization_row  # puts the project on the path

from coalition import create_app
from coalition.extensions import db
from coalition.models.catalog import Category
from coalition.models.digests import DigestSend, DigestSubscription, SendState
from coalition.models.listings import Listing
from coalition.models.matches import Match
from coalition.models.organizations import Organization
from coalition.models.users import User
from coalition.notify import digest as render
from coalition.notify.smtp import Mailer
from coalition.seeds import SEEDS
from coalition.services.impact import rebuild_facts
from worker.jobs import send_digests

ZONES = ["America/New_York"] * 18 + ["America/Chicago", "America/Los_Angeles"]
SERVER = """
import sys, time
from aiosmtpd.controller import Controller
class Count:
    messages = 0
    size = 0
    async def handle_DATA(self, server, session, envelope):
        Count.messages += 1
        Count.size += len(envelope.content)
        return "250 OK"
controller = Controller(Count(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print("ready", flush=True)
for line in sys.stdin:
    print(Count.messages, Count.size, flush=True)
controller.stop()
"""


def free_port() -> int:
    """A free loopback port (aiosmtpd 1.4.6 cannot bind port 0)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SmtpServer:
    """aiosmtpd in a child process that counts what it accepts."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(self.port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None and self.process.stdout.readline() == "ready\n"

    def counts(self) -> tuple[int, int]:
        """Messages and bytes accepted so far."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("?\n")
        self.process.stdin.flush()
        messages, size = self.process.stdout.readline().split()
        return int(messages), int(size)

    def stop(self) -> None:
        """Close the server."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=10)


# ---------------------------------------------------------------- the coalition


def build(rng: random.Random, recipients: int, now: datetime) -> None:
    """Organizations, people, subscriptions, listings and matches."""
    orgs = _organizations(rng, 150)
    categories = db.session.execute(sa.select(Category.id, Category.slug, Category.kind)).all()
    users = _people(rng, orgs, recipients)
    _subscriptions(rng, users, orgs, categories, recipients, now)
    listings = _listings(rng, orgs, categories, now)
    _matches(rng, listings, now)
    db.session.commit()


def _organizations(rng: random.Random, n: int) -> list[dict[str, Any]]:
    """Organizations scattered around the boroughs."""
    rows = []
    for i in range(n):
        row = organization_row(rng, i)
        row.update(timezone=rng.choice(ZONES), discreet_wording=rng.random() < 0.1)
        rows.append(row)
    for row, org_id in zip(rows, insert(Organization, rows), strict=True):
        row["id"] = org_id
    return rows


def _people(rng: random.Random, orgs: list[dict[str, Any]], recipients: int) -> list[Any]:
    """Members of the organizations and a few coordinators: (id, org row or None)."""
    members = int(recipients * 0.9)
    rows, homes = [], []
    for i in range(members + 20):
        org = rng.choice(orgs) if i < members else None
        rows.append(
            dict(
                email=f"person{i}@example.org",
                name=f"Person {i}",
                organization_id=org["id"] if org else None,
                org_role="member",
                coalition_role=None if org else "coordinator",
                disabled=False,
            )
        )
        homes.append(org)
    return list(zip(insert(User, rows), homes, strict=True))


def _filters(
    rng: random.Random, org: dict[str, Any] | None, categories: list[Any]
) -> dict[str, Any]:
    """What one person asks their digest for."""
    values: dict[str, Any] = dict(
        kinds=[],
        categories=[],
        max_distance_km=None,
        scope="coalition",
        neutral_wording=False,
        send_empty=rng.random() < 0.05,
    )
    if rng.random() < 0.3:
        values["kinds"] = [rng.choice(["supply", "staffing"])]
    if rng.random() < 0.3:
        values["categories"] = sorted({rng.choice(categories)[1] for _ in range(rng.randint(1, 3))})
    if org is not None and rng.random() < 0.3:
        values["max_distance_km"] = float(rng.choice([5, 10, 15, 25]))
    if org is not None and rng.random() < 0.15:
        values["scope"] = "own_org"
    values["neutral_wording"] = bool(org and org["discreet_wording"]) or rng.random() < 0.05
    return values


def _subscriptions(
    rng: random.Random,
    users: list[Any],
    orgs: list[dict[str, Any]],
    categories: list[Any],
    recipients: int,
    now: datetime,
) -> None:
    """One subscription per person, and the rest email-only recipients."""
    confirmed = now - timedelta(days=30)
    rows = []
    for i in range(recipients):
        if i < len(users):
            user_id, org = users[i]
            who = dict(user_id=user_id, email=None, organization_id=None)
        else:
            org = rng.choice(orgs) if rng.random() < 0.8 else None
            who = dict(
                user_id=None,
                email=f"board{i}@example.org",
                organization_id=org["id"] if org else None,
            )
        weekly = rng.random() < 0.2
        rows.append(
            dict(
                **who,
                name=f"Reader {i}",
                confirmed_at=confirmed,
                active=True,
                frequency="weekly" if weekly else "daily",
                weekday=rng.randint(0, 6),
                hour=rng.choice([6, 7, 8, 8, 8, 9, 17]),
                timezone=org["timezone"] if org else "America/New_York",
                **_filters(rng, org, categories),
            )
        )
    insert(DigestSubscription, rows)


def _listings(
    rng: random.Random, orgs: list[dict[str, Any]], categories: list[Any], now: datetime
) -> list[dict[str, Any]]:
    """Older listings, and 300 posted in the last day."""
    rows = []
    for i in range(2400):
        org = rng.choice(orgs)
        category_id, _, kind = rng.choice(categories)
        offer = rng.random() < 0.5
        new = i < 300
        created = now - timedelta(hours=rng.uniform(0, 23) if new else rng.uniform(25, 24 * 20))
        supply = kind.value == "supply"
        rows.append(
            dict(
                organization_id=org["id"],
                direction="offer" if offer else "request",
                kind=kind.value,
                category_id=category_id,
                quantity=rng.randint(5, 500),
                reserved=0,
                fulfilled=0,
                lat=org["lat"],
                lon=org["lon"],
                max_distance_km=rng.choice([10.0, 25.0, 50.0]),
                notes="",
                visibility="coordinators" if rng.random() < 0.1 else "coalition",
                status="open",
                urgency=None if offer else rng.choice(["critical", "high", "normal"]),
                expires_on=(now.date() + timedelta(days=rng.randint(3, 200)))
                if offer and supply
                else None,
                need_by=None if offer else now.date() + timedelta(days=rng.randint(3, 30)),
                credentials=[],
                languages=[],
                windows=[],
                created_at=created,
                updated_at=created,
            )
        )
    for row, listing_id in zip(rows, insert(Listing, rows), strict=True):
        row["id"] = listing_id
    return rows


def _matches(rng: random.Random, listings: list[dict[str, Any]], now: datetime) -> None:
    """Matches in every state; 200 handed over in the last day."""
    offers = [x for x in listings if x["direction"] == "offer"]
    requests = [x for x in listings if x["direction"] == "request"]
    states = ["proposed"] * 100 + ["approved"] * 300 + ["accepted"] * 100 + ["handed_off"] * 100
    states += ["fulfilled"] * 200
    rows = []
    for state in states:
        offer = rng.choice(offers)
        request = rng.choice([r for r in requests[:400] if r["kind"] == offer["kind"]] or requests)
        received = now - timedelta(hours=rng.uniform(1, 22)) if state == "fulfilled" else None
        rows.append(
            dict(
                offer_id=offer["id"],
                request_id=request["id"],
                quantity=rng.randint(1, 40),
                state=state,
                source="greedy",
                value_per_unit=1.0,
                distance_km=5.0,
                explanation={},
                reason="",
                received_at=received,
                closed_by="",
                created_at=now - timedelta(days=2),
                updated_at=now,
            )
        )
    insert(Match, rows)
    rebuild_facts(db.session)  # the impact summary the worker keeps from match.fulfilled


# ---------------------------------------------------------------- the runs


def real_run(app: Any, server: SmtpServer, now: datetime) -> tuple[float, Any, int]:
    """`flask digests send --now`, timed; returns seconds, the report and bytes delivered."""
    _, before = server.counts()
    started = time.perf_counter()
    with app.app_context():
        report = send_digests(db.session, now, force=True)
    elapsed = time.perf_counter() - started
    return elapsed, report, server.counts()[1] - before


def baseline(app: Any, server: SmtpServer, count: int, size: int) -> float:
    """The same number of pre-rendered messages of the same size over one connection."""
    with app.app_context():
        address, to = app.config["MAIL_FROM"], "reader@example.org"
        body = ("x" * 75 + "\r\n") * max(size // 77, 1)
        data = f"From: {address}\r\nTo: {to}\r\nSubject: Coalition digest\r\n\r\n{body}".encode()
        messages = [render.Rendered(f"<{i}@b>", to, "s", "", "", data) for i in range(count)]
        started = time.perf_counter()
        with Mailer.from_config(app.config) as mailer:
            render.deliver_all(mailer, messages)
        return time.perf_counter() - started


def make_app(url: str, smtp_port: int, folder: Path) -> Any:
    """The app on the benchmark's database and SMTP server."""
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
            "SECRET_KEY": "bench",
            "BASE_URL": "https://coalition.example.org",
            "BROKER_FOLDER": str(folder / "queue"),
            "EVENTS_NUDGE": False,
        }
    )


def main() -> None:
    """Build the coalition, send everyone's digest, then the baseline; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--postgres", action="store_true", help="use PostgreSQL, not SQLite")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    server = SmtpServer()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = database_url(args.postgres, args.pg_url, folder, "coalition_bench_digests")
        app = make_app(url, server.port, folder)
        now = datetime.now(UTC)
        with app.app_context():
            db.create_all()
            for seed in SEEDS:
                seed(db.session)
            started = time.perf_counter()
            build(random.Random(args.seed), args.recipients, now)
            setup = time.perf_counter() - started
        elapsed, report, size = real_run(app, server, now)
        with app.app_context():
            delivered = db.session.scalar(
                sa.select(sa.func.count()).where(DigestSend.state == SendState.SENT)
            )
            db.engine.dispose()
        average = size // max(report.sent, 1)
        base = baseline(app, server, report.sent, average)
    server.stop()
    print_figures(args, setup, elapsed, report, delivered, average, base)


def print_figures(
    args: argparse.Namespace,
    setup: float,
    elapsed: float,
    report: Any,
    delivered: int,
    average: int,
    base: float,
) -> None:
    """The table."""
    database = "PostgreSQL" if args.postgres else "SQLite"
    sent_rate = report.sent / elapsed if elapsed else 0.0
    handled_rate = (report.sent + report.skipped) / elapsed if elapsed else 0.0
    base_rate = report.sent / base if base else 0.0
    print(f"digests benchmark: {args.recipients} recipients, {database}, {date.today()}")
    print(f"  coalition built in {setup:.1f} s")
    print(
        f"  scheduled {report.scheduled}: sent {report.sent}, empty skipped {report.skipped}, "
        f"retrying {report.retrying}, failed {report.failed} (rows marked sent: {delivered})"
    )
    print(f"  average message: {average / 1024:.1f} KiB")
    print(f"  {'':32} {'seconds':>8} {'msg/s':>8}")
    print(
        f"  {'digests (schedule+render+send)':32} {elapsed:8.2f} {sent_rate:8.0f}"
        f"   ({handled_rate:.0f} recipients/s)"
    )
    print(f"  {'baseline (pre-rendered, 1 conn)':32} {base:8.2f} {base_rate:8.0f}")
    print(f"  ratio digests/baseline: {elapsed / base if base else float('inf'):.2f}x the time")
    verdict = "MET" if elapsed < 60 and report.scheduled == args.recipients else "NOT MET"
    print(f"  goal (all {args.recipients} in < 60 s): {verdict}")


if __name__ == "__main__":
    main()
