"""Periodic jobs, safe with several workers and across restarts.

Each job has a lease row in `job_leases`. A worker runs a job only after moving the row's
`expires_at` from the past to one interval ahead with a conditional UPDATE, which succeeds
for exactly one worker; the lease outlives restarts, so a restarted worker does not run a
job again before its interval is over. The jobs themselves are in `worker.jobs`.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from coalition import leases
from coalition.database import insert_or_ignore
from coalition.events.relay import relay_publisher
from coalition.events.topology import Routes
from coalition.extensions import db
from coalition.models.base import utcnow
from coalition.models.events import JobLease
from worker.jobs import JOBS, Job, JobContext
from worker.processing import describe

log = logging.getLogger("worker.schedule")
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


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
