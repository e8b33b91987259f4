"""Periodic jobs that commit as they go: each is the entry point of its own transactions.

Sending cannot wait for one commit at the end: a claim must be durable before the network
call, and a delivery recorded as soon as the other side took it. The steps (claim, send,
record) live in `coalition.notify.delivery` and `coalition.services.digests` and only
flush; these loops decide when to commit.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from flask import current_app
from sqlalchemy.orm import Session

from coalition.models.base import utcnow
from coalition.notify import delivery
from coalition.notify.smtp import Mailer
from coalition.services.digests import DigestRun, RunReport

if TYPE_CHECKING:
    from worker.schedule import JobContext

log = logging.getLogger("worker.jobs")


# ---------------------------------------------------------------- emails and webhooks


def deliver_due(session: Session, now: datetime | None = None, limit: int | None = None) -> int:
    """Send every due email and webhook once; return how many attempts were made."""
    now = now or utcnow()
    limit = limit or int(current_app.config["NOTIFY_BATCH"])
    if interrupted := delivery.interrupt_stale(session, now):
        log.warning("%d deliveries were interrupted by a worker stop", interrupted)
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
