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
from flask_babel import force_locale, gettext

from coalition.backoff import Backoff
from coalition.config import current_settings
from coalition.leases import claim_row, lease_until
from coalition.models.notifications import (
    DUE_STATES,
    DeliveryState,
    EmailDelivery,
    Notification,
    WebhookDelivery,
)
from coalition.models.users import User
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
        _retry_or_fail(session, row, outcome, now)
    session.flush()


def _retry_or_fail(session: Session, row: Delivery, outcome: Outcome, now: datetime) -> None:
    """Back off for another attempt, or give up: an email the server could not take yet
    once EMAIL_RETRY_WINDOW has passed since it was queued (coordinators are alerted), any
    other row after its last attempt."""
    settings = current_settings()
    if isinstance(row, EmailDelivery) and not outcome.permanent:
        queued = row.created_at or now
        give_up = now - queued >= timedelta(seconds=settings.email_retry_window)
    else:
        give_up = row.attempts >= settings.notify_max_attempts
    if not give_up:
        row.state = DeliveryState.RETRY
        row.next_attempt_at = now + backoff(row.attempts)
        return
    row.state = DeliveryState.FAILED
    if isinstance(row, EmailDelivery) and not outcome.permanent:
        alert_coordinators(session, row, now)


ALERT_EVENT = "email.undeliverable"


def alert_coordinators(session: Session, row: EmailDelivery, now: datetime) -> int:
    """Tell every coordinator in the app (email may be what is down) that emails are being
    given up, once a day whatever the number of emails; returns how many were told."""
    key = f"{ALERT_EVENT}:{now.date().isoformat()}"
    told = set(session.scalars(sa.select(Notification.user_id).where(Notification.event_id == key)))
    coordinators = session.scalars(
        sa.select(User).where(User.coalition_role.is_not(None), User.disabled.is_(False))
    ).all()
    new = [user for user in coordinators if user.id not in told]
    hours = round(current_settings().email_retry_window / 3600)
    for user in new:
        with force_locale(user.locale or "en"):
            title = gettext("Emails are not getting through")
            body = gettext(
                "The mail server has not taken some emails for %(hours)s hours; they were "
                "given up. Last error: %(error)s",
                hours=hours,
                error=row.last_error[:300],
            )
        session.add(
            Notification(user_id=user.id, event_id=key, event_type=ALERT_EVENT, title=title,
                         body=body)
        )  # fmt: skip
    log.error("email %s given up after %s attempts: %s", row.id, row.attempts, row.last_error)
    return len(new)


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
