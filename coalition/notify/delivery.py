"""Sending pending emails and webhooks after commit, each at most once per attempt.

Why claim-then-send: an email or an HTTP POST cannot be rolled back, and a worker may die
at any moment. The handler only *records* deliveries (state `pending`) in its transaction.
`deliver_due` then, for each due row, (1) claims it with a conditional UPDATE
(`pending|retry` → `sending`, attempts + 1) and COMMITS the claim, (2) sends, (3) records
the outcome (`sent`, or `retry` with exponential backoff, or `failed` after the last
attempt) and commits. A worker restarted anywhere in between never sends a row twice:
a second worker cannot claim a row that is `sending` or `sent`, and a row left `sending`
by a dead worker is marked `interrupted` once its claim runs out — not re-sent, since the
other side may have received it (the delivery log shows it; webhook receivers can dedup
on `X-Coalition-Delivery`). This function commits: it is the worker's periodic job, and a
claim must be durable before the network call.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from coalition.models.base import utcnow
from coalition.models.notifications import (
    DUE_STATES,
    DeliveryState,
    EmailDelivery,
    WebhookDelivery,
)
from coalition.sessions import Session

log = logging.getLogger("coalition.notify")

Delivery = EmailDelivery | WebhookDelivery
DELIVERY_MODELS: tuple[type[EmailDelivery] | type[WebhookDelivery], ...] = (
    EmailDelivery,
    WebhookDelivery,
)


@dataclass(frozen=True)
class Outcome:
    """What one attempt achieved."""

    ok: bool
    error: str = ""
    response_code: int | None = None


Sender = Callable[[Any, datetime], Outcome]


def setting(name: str, default: Any) -> Any:
    """A notification setting from the app config (see coalition.config)."""
    return current_app.config.get(name, default)


def backoff(attempts: int) -> timedelta:
    """Wait after the n-th failed attempt: base, 2 base, 4 base … up to the cap."""
    base = float(setting("NOTIFY_RETRY_BASE", 30.0))
    cap = float(setting("NOTIFY_RETRY_MAX", 3600.0))
    return timedelta(seconds=min(cap, base * 2 ** max(attempts - 1, 0)))


def due_ids(session: Session, model: Any, now: datetime, limit: int) -> list[int]:
    """Rows waiting to be sent whose time has come, oldest first."""
    return list(
        session.scalars(
            sa.select(model.id)
            .where(model.state.in_(DUE_STATES), model.next_attempt_at <= now)
            .order_by(model.next_attempt_at, model.id)
            .limit(limit)
        )
    )


def claim(session: Session, model: Any, row_id: int, now: datetime) -> bool:
    """Take a due row for sending; False when another worker took it or it is not due."""
    lease = timedelta(seconds=float(setting("NOTIFY_CLAIM_SECONDS", 300.0)))
    result = session.execute(
        sa.update(model)
        .where(model.id == row_id, model.state.in_(DUE_STATES), model.next_attempt_at <= now)
        .values(
            state=DeliveryState.SENDING,
            attempts=model.attempts + 1,
            claimed_until=now + lease,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def settle(session: Session, row: Delivery, outcome: Outcome, now: datetime) -> None:
    """Record an attempt's outcome: sent, retry later, or failed for good."""
    row.claimed_until = None
    if isinstance(row, WebhookDelivery):
        row.response_code = outcome.response_code
    if outcome.ok:
        row.state = DeliveryState.SENT
        _stamp_sent(row, now)
        row.last_error = ""
        return
    row.last_error = outcome.error[:2000]
    if row.attempts >= int(setting("NOTIFY_MAX_ATTEMPTS", 6)):
        row.state = DeliveryState.FAILED
    else:
        row.state = DeliveryState.RETRY
        row.next_attempt_at = now + backoff(row.attempts)


def _stamp_sent(row: Delivery, now: datetime) -> None:
    """Set the channel's sent time."""
    if isinstance(row, WebhookDelivery):
        row.delivered_at = now
    else:
        row.sent_at = now


def interrupt_stale(session: Session, now: datetime) -> int:
    """Rows a dead worker left `sending`: mark them interrupted (never re-sent)."""
    total = 0
    for model in DELIVERY_MODELS:
        result = session.execute(
            sa.update(model)
            .where(model.state == DeliveryState.SENDING, model.claimed_until < now)
            .values(
                state=DeliveryState.INTERRUPTED,
                last_error="the worker stopped while sending; not re-sent automatically",
                claimed_until=None,
            )
            .execution_options(synchronize_session=False)
        )
        total += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return total


def _senders() -> dict[Any, Sender]:
    """The send function of each channel."""
    from coalition.notify import emails, webhooks

    return {EmailDelivery: emails.send_one, WebhookDelivery: webhooks.send_one}


def deliver_due(session: Session, now: datetime | None = None, limit: int | None = None) -> int:
    """Send every due email and webhook once; return how many attempts were made. Commits."""
    now = now or utcnow()
    limit = limit or int(setting("NOTIFY_BATCH", 100))
    if interrupted := interrupt_stale(session, now):
        log.warning("%d deliveries were interrupted by a worker stop", interrupted)
    session.commit()
    attempts = 0
    for model, send in _senders().items():
        for row_id in due_ids(session, model, now, limit):
            attempts += _attempt(session, model, row_id, send, now)
    return attempts


def _attempt(
    session: Session,
    model: Any,
    row_id: int,
    send: Callable[[Any, datetime], Outcome],
    now: datetime,
) -> int:
    """Claim, commit, send, settle, commit; 0 when the row was not ours to send."""
    if not claim(session, model, row_id, now):
        session.rollback()
        return 0
    session.commit()
    row: Delivery = session.get_one(model, row_id, populate_existing=True)
    try:
        outcome = send(row, now)
    except Exception as exc:  # noqa: BLE001 - a bug in one delivery must not stop the others
        log.exception("delivery %s %s failed unexpectedly", model.__tablename__, row_id)
        outcome = Outcome(False, f"{type(exc).__name__}: {exc}")
    settle(session, row, outcome, now)
    session.commit()
    return 1


def deliver_job(ctx: Any) -> int:
    """Worker job: send the emails and webhooks that are due (commits as it goes)."""
    return deliver_due(ctx.session, ctx.now)
