"""Periodic jobs: one run per interval across workers and restarts; the registered jobs."""

from __future__ import annotations

import threading
from datetime import timedelta

import sqlalchemy as sa

from coalition.extensions import db
from coalition.models.base import utcnow
from coalition.models.events import JobLease, OutboxEvent
from coalition.models.listings import Listing, ListingStatus
from tests.listings_support import make_world, post
from worker.jobs import JOBS, Job, JobContext, expire_listings, reconcile_listings
from worker.schedule import Scheduler, acquire_lease


def test_only_one_holder_gets_an_expired_lease(app):
    assert acquire_lease(db.session, "job", "a", 60) is not None
    assert acquire_lease(db.session, "job", "b", 60) is None
    assert acquire_lease(db.session, "job", "a", 60) is None  # not even the holder, before expiry
    lease = db.session.get(JobLease, "job")
    assert (lease.holder, lease.runs) == ("a", 1)


def test_an_expired_lease_passes_to_the_next_worker(app):
    acquire_lease(db.session, "job", "a", 60)
    db.session.execute(sa.update(JobLease).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert acquire_lease(db.session, "job", "b", 60) is not None
    db.session.expire_all()
    assert db.session.get(JobLease, "job").runs == 2


def test_racing_workers_run_a_job_once(app):
    winners = []

    def contend(name):
        with app.app_context():
            if acquire_lease(db.session, "race", name, 60):
                winners.append(name)
            db.session.remove()

    threads = [threading.Thread(target=contend, args=(f"w{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(winners) == 1


def counting_job(runs, fail=False):
    def run(ctx: JobContext):
        runs.append(ctx.now)
        if fail:
            raise RuntimeError("job broke")

    return run


def test_two_schedulers_and_a_restart_run_a_job_once_per_interval(fs_bus, app):
    runs = []
    jobs = (Job("count", "COUNT_INTERVAL", counting_job(runs), 3600),)
    first, second = Scheduler(app, {}, jobs, "first"), Scheduler(app, {}, jobs, "second")
    assert first.tick() == ["count"]
    assert second.tick() == []
    restarted = Scheduler(app, {}, jobs, "first")
    assert restarted.tick() == []
    assert len(runs) == 1


def test_a_failing_job_records_its_error_and_others_still_run(fs_bus, app):
    runs = []
    jobs = (
        Job("broken", "X_INTERVAL", counting_job([], fail=True), 3600),
        Job("fine", "Y_INTERVAL", counting_job(runs), 3600),
    )
    assert Scheduler(app, {}, jobs, "me").tick() == ["broken", "fine"]
    assert len(runs) == 1
    db.session.expire_all()
    assert db.session.get(JobLease, "broken").last_error == "RuntimeError: job broke"
    assert db.session.get(JobLease, "fine").last_error is None


def test_the_backbone_jobs_are_registered():
    names = [job.name for job in JOBS]
    assert names[:3] == ["outbox-sweep", "reconcile-listings", "expire-listings"]
    assert len(set(names)) == len(names)


def context(app, now=None):
    return JobContext(db.session, now or utcnow(), app.config, None, {})


def outbox_events() -> list[OutboxEvent]:
    return list(db.session.scalars(sa.select(OutboxEvent).order_by(OutboxEvent.id)))


def test_reconciliation_reannounces_stale_unseen_listings(app):
    world = make_world()
    unseen = post(world.owner_org)
    seen = post(world.owner_org)
    recent = post(world.other_org, "request")
    withdrawn = post(world.owner_org)
    db.session.execute(
        sa.update(Listing).where(Listing.id == seen.id).values(seen_version=Listing.version)
    )
    db.session.execute(
        sa.update(Listing).where(Listing.id == withdrawn.id).values(status=ListingStatus.WITHDRAWN)
    )
    db.session.execute(
        sa.update(Listing)
        .where(Listing.id != recent.id)
        .values(updated_at=utcnow() - timedelta(hours=1))
    )
    db.session.commit()
    before = len(outbox_events())
    assert reconcile_listings(context(app)) == 1
    db.session.commit()
    event = outbox_events()[before]
    assert event.type == "offer.updated"
    assert event.payload["data"] == {"id": unseen.id, "reason": "reconcile"}


def test_reconciliation_skips_listings_with_nothing_available(app):
    world = make_world()
    listing = post(world.owner_org)
    db.session.execute(
        sa.update(Listing).values(
            reserved=Listing.quantity, updated_at=utcnow() - timedelta(hours=1)
        )
    )
    db.session.commit()
    assert reconcile_listings(context(app)) == 0
    assert listing.id


def test_the_expiry_job_calls_the_listings_service(app, monkeypatch):
    from coalition.services import listings

    calls = []
    monkeypatch.setattr(
        listings, "expire_listings", lambda session, today: calls.append(today) or 0
    )
    now = utcnow()
    expire_listings(context(app, now))
    assert calls == [now.date()]
