"""The steps of sending pending emails and webhooks, each row at most once per attempt.

Why claim-then-send: an email or an HTTP POST cannot be rolled back, and a worker may die
at any moment. The handler only *records* deliveries (state `pending`) in its transaction.
The worker's delivery job (`worker.jobs.deliver_due`) then, for each due row, (1) claims it
with a conditional UPDATE (`pending|retry` → `sending`, attempts + 1) and commits the claim,
(2) sends, (3) records the outcome (`sent`, or `retry` with exponential backoff, or `failed`
after the last attempt) and commits. A worker restarted anywhere in between never sends a
row twice: a second worker cannot claim a row that is `sending` or `sent`, and a row left
`sending` by a dead worker is marked `interrupted` once its claim runs out — not re-sent,
since the other side may have received it (the delivery log shows it; webhook receivers can
dedup on `X-Coalition-Delivery`). These steps only flush; the job commits between them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from coalition.backoff import Backoff
from coalition.config import current_settings
from coalition.leases import claim_row, lease_until
from coalition.models.notifications import (
    DUE_STATES,
    DeliveryState,
    EmailDelivery,
    WebhookDelivery,
)
from coalition.notify import emails, webhooks
from coalition.notify.outcome import Outcome
from coalition.notify.smtp import Mailer
from coalition.sessions import Session

log = logging.getLogger("coalition.notify")

Delivery = EmailDelivery | WebhookDelivery
DeliveryModel = type[EmailDelivery] | type[WebhookDelivery]
DELIVERY_MODELS: tuple[DeliveryModel, ...] = (EmailDelivery, WebhookDelivery)
Sender = Callable[[Any, datetime], Outcome]


def backoff(attempts: int) -> timedelta:
    """Wait after the n-th failed attempt: base, 2 base, 4 base … up to the cap."""
    retry = Backoff(current_settings().notify_retry_base, current_settings().notify_retry_max)
    return retry.delay(attempts)


def senders(mailer: Mailer) -> dict[DeliveryModel, Sender]:
    """The send function of each channel; emails go out over the run's one mailer."""
    return {
        EmailDelivery: lambda row, now: emails.send_one(row, now, mailer),
        WebhookDelivery: webhooks.send_one,
    }


def due_ids(session: Session, model: DeliveryModel, now: datetime, limit: int) -> list[int]:
    """Rows waiting to be sent whose time has come, oldest first."""
    return list(
        session.scalars(
            sa.select(model.id)
            .where(model.state.in_(DUE_STATES), model.next_attempt_at <= now)
            .order_by(model.next_attempt_at, model.id)
            .limit(limit)
        )
    )


def claim(session: Session, model: DeliveryModel, row_id: int, now: datetime) -> bool:
    """Take a due row for sending; False when another worker took it or it is not due."""
    due = sa.and_(model.id == row_id, model.state.in_(DUE_STATES), model.next_attempt_at <= now)
    values = {
        model.state: DeliveryState.SENDING,
        model.attempts: model.attempts + 1,
        model.claimed_until: lease_until(now, current_settings().notify_claim_seconds),
        model.updated_at: now,
    }
    return claim_row(session, model, due, values)


def attempt(send: Sender, row: Delivery, now: datetime) -> Outcome:
    """Send a claimed row once; an unexpected error is an outcome like any other."""
    try:
        return send(row, now)
    except Exception as exc:  # noqa: BLE001 - a bug in one delivery must not stop the others
        log.exception("delivery %s %s failed unexpectedly", row.__tablename__, row.id)
        return Outcome(False, f"{type(exc).__name__}: {exc}")


def settle(session: Session, row: Delivery, outcome: Outcome, now: datetime) -> None:
    """Record an attempt's outcome: sent, retry later, or failed for good."""
    row.claimed_until = None
    if isinstance(row, WebhookDelivery):
        row.response_code = outcome.response_code
    if outcome.ok:
        row.state = DeliveryState.SENT
        _stamp_sent(row, now)
        row.last_error = ""
    else:
        row.last_error = outcome.error[:2000]
        _retry_or_fail(row, now)
    session.flush()


def _retry_or_fail(row: Delivery, now: datetime) -> None:
    """Back off for another attempt, or give up after the last one."""
    if row.attempts >= current_settings().notify_max_attempts:
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
    """Rows a dead worker left `sending`. An email is marked interrupted (never re-sent: the
    server may have it and mail has no dedup); a webhook is due again at once, as receivers
    dedup on its Idempotency-Key (at least once), unless its attempts are used up."""
    stale = sa.and_(EmailDelivery.state == DeliveryState.SENDING, EmailDelivery.claimed_until < now)
    total = _update(session, EmailDelivery, stale, {
        "state": DeliveryState.INTERRUPTED,
        "last_error": "the worker stopped while sending; not re-sent automatically",
        "claimed_until": None,
    })  # fmt: skip
    hook_stale = sa.and_(
        WebhookDelivery.state == DeliveryState.SENDING, WebhookDelivery.claimed_until < now
    )
    spent = WebhookDelivery.attempts >= current_settings().notify_max_attempts
    last_error = "the worker stopped while sending; sent again (same Idempotency-Key)"
    total += _update(session, WebhookDelivery, sa.and_(hook_stale, ~spent), {
        "state": DeliveryState.RETRY, "next_attempt_at": now, "last_error": last_error,
        "claimed_until": None,
    })  # fmt: skip
    total += _update(session, WebhookDelivery, sa.and_(hook_stale, spent), {
        "state": DeliveryState.FAILED,
        "last_error": "the worker stopped while sending the last attempt",
        "claimed_until": None,
    })  # fmt: skip
    return total


def _update(session: Session, model: DeliveryModel, where: Any, values: dict[str, Any]) -> int:
    """A bulk UPDATE of the rows matching `where`; how many there were."""
    result = session.execute(
        sa.update(model).where(where).values(**values).execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
