"""Periodic jobs, safe with several workers and across restarts.

Each job has a lease row in `job_leases`. A worker runs a job only after moving the row's
`expires_at` from the past to one interval ahead with a conditional UPDATE, which succeeds
for exactly one worker; the lease outlives restarts, so a restarted worker does not run a
job again before its interval is over. Later issues add their jobs to `JOBS`.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from coalition import leases
from coalition.database import insert_or_ignore
from coalition.events.outbox import emit
from coalition.events.publisher import Publisher
from coalition.events.relay import relay_publisher
from coalition.events.sweeper import sweep_outbox
from coalition.events.topology import Routes
from coalition.extensions import db
from coalition.models.base import utcnow
from coalition.models.events import JobLease
from coalition.models.listings import ACTIVE_STATUSES, Listing
from coalition.services import listings
from coalition.services.match_lifecycle import expire_holds_job
from coalition.services.proposals import run_resolve
from worker.jobs import deliver_notifications, send_due_digests
from worker.processing import describe

log = logging.getLogger("worker.schedule")
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass
class JobContext:
    """What a job gets: the session (flush, the scheduler commits), time, config, publisher."""

    session: Session
    now: datetime
    config: Mapping[str, Any]
    publisher: Publisher
    routes: Routes


@dataclass(frozen=True)
class Job:
    """A named job and the config key of its interval in seconds."""

    name: str
    interval_key: str
    run: Callable[[JobContext], Any]
    default_interval: float = 300.0

    def interval(self, config: Mapping[str, Any]) -> float:
        """Seconds between two runs."""
        return float(config.get(self.interval_key, self.default_interval))


# ---------------------------------------------------------------- the jobs


def outbox_sweep(ctx: JobContext) -> Any:
    """Publish stuck outbox rows; re-publish rows a group never handled."""
    return sweep_outbox(ctx.session, ctx.publisher, ctx.routes, ctx.config, ctx.now)


def reconcile_listings(ctx: JobContext) -> int:
    """Re-announce open listings with stock whose latest version matching has not seen."""
    before = ctx.now - timedelta(seconds=float(ctx.config.get("RECONCILE_AGE", 600.0)))
    rows = ctx.session.execute(
        sa.select(Listing.id, Listing.direction)
        .where(
            Listing.status.in_(ACTIVE_STATUSES),
            Listing.available > 0,
            Listing.seen_version < Listing.version,
            Listing.updated_at <= before,
        )
        .order_by(Listing.id)
        .limit(int(ctx.config.get("EVENTS_SWEEP_LIMIT", 1000)))
    ).all()
    for listing_id, direction in rows:
        emit(
            ctx.session,
            f"{direction}.updated",
            {"id": listing_id, "reason": "reconcile"},
            "system:reconcile",
        )
    return len(rows)


def expire_listings(ctx: JobContext) -> Any:
    """Expire listings past their lot expiry, need-by date or last window."""
    return listings.expire_listings(ctx.session, ctx.now.date())


def resolve_matches(ctx: JobContext) -> Any:
    """The global re-solve: replace unapproved proposals when the optimum is clearly better."""
    run = run_resolve(ctx.session, float(ctx.config.get("RESOLVE_MARGIN", 0.002)))
    return {"replaced": run.replaced, "gain": run.optimal_value - run.current_value}


JOBS: tuple[Job, ...] = (
    Job("outbox-sweep", "EVENTS_SWEEP_INTERVAL", outbox_sweep, 60.0),
    Job("reconcile-listings", "RECONCILE_INTERVAL", reconcile_listings, 300.0),
    Job("expire-listings", "EXPIRY_INTERVAL", expire_listings, 3600.0),
    Job("resolve-matches", "RESOLVE_INTERVAL", resolve_matches, 300.0),
    Job("expire-match-holds", "MATCH_HOLD_INTERVAL", expire_holds_job, 300.0),
    Job("deliver-notifications", "NOTIFY_INTERVAL", deliver_notifications, 5.0),
    Job("digests", "DIGEST_INTERVAL", send_due_digests, 60.0),
)


# ---------------------------------------------------------------- leases


def acquire_lease(session: Session, name: str, holder: str, seconds: float) -> datetime | None:
    """Take the job's lease for `seconds` if it expired; commit. None when another holds it."""
    now = utcnow()
    session.execute(
        insert_or_ignore(
            session,
            JobLease,
            {"name": name, "holder": "", "expires_at": EPOCH, "runs": 0},
            index_elements=["name"],
        )
    )
    until = leases.lease_until(now, seconds)
    taken = leases.claim_row(
        session,
        JobLease,
        sa.and_(JobLease.name == name, JobLease.expires_at <= now),
        {
            JobLease.holder: holder,
            JobLease.expires_at: until,
            JobLease.last_started_at: now,
            JobLease.runs: JobLease.runs + 1,
        },
    )
    session.commit()
    return until if taken else None


def lease_expiry(session: Session, name: str) -> datetime:
    """When the job's current lease ends."""
    expires = session.scalar(sa.select(JobLease.expires_at).where(JobLease.name == name))
    return expires or utcnow()


def finish_lease(session: Session, name: str, error: str | None) -> None:
    """Note the end of a run and its error, if any; commit."""
    session.execute(
        sa.update(JobLease)
        .where(JobLease.name == name)
        .values(last_finished_at=utcnow(), last_error=error)
        .execution_options(synchronize_session=False)
    )
    session.commit()


# ---------------------------------------------------------------- the loop


class Scheduler:
    """Runs each job at most once per interval across every worker sharing the database."""

    def __init__(
        self, app: Flask, routes: Routes, jobs: tuple[Job, ...] = JOBS, holder: str = ""
    ) -> None:
        self.app = app
        self.routes = routes
        self.jobs = jobs
        self.holder = holder or f"worker-{id(self):x}"
        self.publisher = relay_publisher(app.config, routes, path="sweep")
        self.next_check: dict[str, float] = {}

    def tick(self) -> list[str]:
        """Run every job whose lease this worker gets now; return their names."""
        ran = []
        for job in self.jobs:
            if time.monotonic() >= self.next_check.get(job.name, 0.0) and self._try(job):
                ran.append(job.name)
        return ran

    def _try(self, job: Job) -> bool:
        """Take the lease and run the job, or learn when to look again."""
        with self.app.app_context():
            try:
                until = acquire_lease(
                    db.session(), job.name, self.holder, job.interval(self.app.config)
                )
                if until is None:
                    self._look_again(job, lease_expiry(db.session(), job.name))
                    return False
                self._look_again(job, until)
                self._run(job)
                return True
            except sa.exc.SQLAlchemyError as exc:
                db.session.rollback()
                log.warning(
                    "job lease unavailable", extra={"job": job.name, "error": describe(exc)}
                )
                self.next_check[job.name] = time.monotonic() + 5.0
                return False
            finally:
                db.session.remove()

    def _look_again(self, job: Job, until: datetime) -> None:
        """Check the lease again when it expires."""
        self.next_check[job.name] = time.monotonic() + max((until - utcnow()).total_seconds(), 0.0)

    def _run(self, job: Job) -> None:
        """Run one job in its own transaction and record how it ended."""
        started = time.perf_counter()
        ctx = JobContext(db.session(), utcnow(), self.app.config, self.publisher, self.routes)
        error = None
        try:
            result = job.run(ctx)
            db.session.commit()
        except Exception as exc:  # noqa: BLE001 - one failing job must not stop the others
            db.session.rollback()
            error, result = describe(exc), None
            log.exception("job failed", extra={"job": job.name})
        finish_lease(db.session(), job.name, error)
        # a run that did nothing is not news: the delivery job alone runs every 5 s
        log.log(
            logging.INFO if error or _did_something(result) else logging.DEBUG,
            "job ran",
            extra={
                "job": job.name,
                "result": repr(result),
                "error": error,
                "ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )

    def run(self, stop: threading.Event) -> None:
        """Tick until `stop` is set."""
        log.info("scheduler started", extra={"jobs": [j.name for j in self.jobs]})
        while not stop.is_set():
            self.tick()
            wait = min(self.next_check.values(), default=time.monotonic() + 1.0) - time.monotonic()
            stop.wait(min(max(wait, 0.05), 1.0))
        self.publisher.close()
        log.info("scheduler stopped")


def _did_something(result: Any) -> bool:
    """Whether a job's result counts anything (`{"sent": 0}` and None count nothing)."""
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        result = dataclasses.asdict(result)
    if isinstance(result, Mapping):
        return any(_did_something(v) for v in result.values())
    if isinstance(result, list | tuple):
        return any(_did_something(v) for v in result)
    return bool(result)
