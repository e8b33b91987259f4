"""The worker's schedule runs the digest job every minute."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from coalition.extensions import db
from coalition.models.base import utcnow
from coalition.services.digests import next_due
from tests.digests.conftest import FlakySmtp, World, subscribe
from worker.jobs import JOBS, JobContext


def test_the_digest_job_is_registered_every_minute_and_sends_what_is_due(
    app: Any, world: World, smtp: FlakySmtp
) -> None:
    (job,) = [j for j in JOBS if j.name == "digests"]
    assert job.interval(app.config) == 60.0
    sub = subscribe(world.harlem_member)
    due = next_due(sub, utcnow())
    world.listing(world.bushwick, created_at=due - timedelta(hours=1))  # inside the window
    context = JobContext(db.session, due, app.config, publisher=None, routes=None)  # type: ignore[arg-type]

    first = job.run(context)
    second = job.run(JobContext(db.session, due + timedelta(minutes=1), app.config, None, None))  # type: ignore[arg-type]

    assert first["sent"] == 1 and second["sent"] == 0 and second["scheduled"] == 0
    assert len(smtp.messages) == 1
