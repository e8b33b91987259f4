"""The worker's periodic jobs and their registry `JOBS`.

A job gets a `JobContext`. Most change the database through services (flush, never commit)
and the scheduler (`worker.schedule`) commits once after they return. Sending cannot wait
for one commit at the end: a claim must be durable before the network call, and a delivery
recorded as soon as the other side took it, so the delivery and digest loops here commit as
they go (the steps, claim, send, record, live in `coalition.notify.delivery` and
`coalition.services.digests` and only flush).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from coalition.config import current_settings, settings_of
from coalition.events.outbox import emit
from coalition.events.publisher import Publisher
from coalition.events.sweeper import sweep_outbox
from coalition.events.topology import Routes
from coalition.models.base import utcnow
from coalition.models.listings import ACTIVE_STATUSES, Listing
from coalition.notify import delivery, proposal_emails
from coalition.notify.digest.run import DigestRun, RunReport
from coalition.notify.smtp import Mailer
from coalition.services import credentials, forecast, listings, proactive
from coalition.services.match_lifecycle import expire_holds
from coalition.services.proposals import run_resolve

log = logging.getLogger("worker.jobs")


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
        """Seconds between two runs: the setting `interval_key` names, else the job's default."""
        value = getattr(settings_of(config), self.interval_key.lower(), None)
        if value is None:  # a key that is no setting (yet): the config's value, else the default
            value = config.get(self.interval_key, self.default_interval)
        return float(value)


def outbox_sweep(ctx: JobContext) -> Any:
    """Publish stuck outbox rows; re-publish rows a group never handled."""
    return sweep_outbox(ctx.session, ctx.publisher, ctx.routes, ctx.config, ctx.now)


def reconcile_listings(ctx: JobContext) -> int:
    """Re-announce open listings with stock whose latest version matching has not seen."""
    before = ctx.now - timedelta(seconds=settings_of(ctx.config).reconcile_age)
    rows = ctx.session.execute(
        sa.select(Listing.id, Listing.direction)
        .where(
            Listing.status.in_(ACTIVE_STATUSES),
            Listing.available > 0,
            Listing.seen_version < Listing.version,
            Listing.updated_at <= before,
        )
        .order_by(Listing.id)
        .limit(settings_of(ctx.config).events_sweep_limit)
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
    run = run_resolve(ctx.session, settings_of(ctx.config).resolve_margin)
    return {"replaced": run.replaced, "gain": run.optimal_value - run.current_value}


def expire_match_holds(ctx: JobContext) -> int:
    """Expire the holds of matches nobody acted on within MATCH_HOLD_HOURS."""
    return expire_holds(ctx.session, ctx.now)


# ---------------------------------------------------------------- emails and webhooks


def deliver_due(session: Session, now: datetime | None = None, limit: int | None = None) -> int:
    """Send every due email and webhook once; return how many attempts were made."""
    now = now or utcnow()
    limit = limit or current_settings().notify_batch
    if interrupted := delivery.interrupt_stale(session, now):
        log.warning("%d deliveries were interrupted by a worker stop", interrupted)
    calm = proposal_emails.calm_due(session, now)
    if any(calm.values()):
        log.info("proposal emails: %s", calm)
    session.commit()
    attempts = 0
    with Mailer.from_config(current_app.config) as mailer:
        for model, send in delivery.senders(mailer).items():
            for row_id in delivery.due_ids(session, model, now, limit):
                attempts += _attempt(session, model, row_id, send, now)
    return attempts


def _attempt(
    session: Session, model: delivery.DeliveryModel, row_id: int, send: Any, now: datetime
) -> int:
    """Claim, commit, send, settle, commit; 0 when the row was not ours to send."""
    if not delivery.claim(session, model, row_id, now):
        return 0
    session.commit()
    row = cast(delivery.Delivery, session.get_one(model, row_id, populate_existing=True))
    delivery.settle(session, row, delivery.attempt(send, row, now), now)
    session.commit()
    return 1


def deliver_notifications(ctx: JobContext) -> int:
    """Worker job: send the emails and webhooks that are due."""
    return deliver_due(ctx.session, ctx.now)


# ---------------------------------------------------------------- digests


def send_digests(session: Session, now: datetime | None = None, force: bool = False) -> RunReport:
    """Schedule and send every digest due now, committing at each point the run names."""
    run = DigestRun(session, now, force)
    run.schedule()
    session.commit()
    for _finished in run.send():
        session.commit()
    log.info("digests run %s", run.report.as_dict())
    return run.report


def send_due_digests(ctx: JobContext) -> dict[str, int]:
    """Worker job (every minute): send the digests that are due."""
    return send_digests(ctx.session, ctx.now).as_dict()


def forecast_stock(ctx: JobContext) -> dict[str, int]:
    """Forecast every organization x category with stock entries again (days pass), then
    create or withdraw the forecast's suggested requests and offers."""
    forecasts = forecast.refresh_all(ctx.session, ctx.now)
    return {"forecasts": forecasts, "evaluated": proactive.evaluate_all(ctx.session, ctx.now)}


def credential_reminders(ctx: JobContext) -> dict[str, int]:
    """Remind organizations 30 days before a credential expires; announce expiry (once each)."""
    return credentials.send_reminders(ctx.session, ctx.now.date(), ctx.now)


JOBS: tuple[Job, ...] = (
    Job("outbox-sweep", "EVENTS_SWEEP_INTERVAL", outbox_sweep),
    Job("reconcile-listings", "RECONCILE_INTERVAL", reconcile_listings),
    Job("expire-listings", "EXPIRY_INTERVAL", expire_listings),
    Job("resolve-matches", "RESOLVE_INTERVAL", resolve_matches),
    Job("expire-match-holds", "MATCH_HOLD_INTERVAL", expire_match_holds),
    Job("deliver-notifications", "NOTIFY_INTERVAL", deliver_notifications),
    Job("digests", "DIGEST_INTERVAL", send_due_digests),
    Job("forecast-stock", "FORECAST_INTERVAL", forecast_stock),
    Job("credential-reminders", "CREDENTIAL_REMINDER_INTERVAL", credential_reminders, 3600.0),
)
