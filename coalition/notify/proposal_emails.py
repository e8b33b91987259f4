"""Calm proposal emails: late, folded per person, at most one an interval, none for the gone.

The in-app notification of a `match.proposed` event is immediate; its emails are recorded at
the same time but due only `proposal_email_delay` seconds later (10 minutes by default).
Before each delivery run, `calm_due` goes over the proposal emails that have come due:

- a proposal no longer standing (superseded by a re-solve, cancelled, rejected, or already
  approved, which sends its own email) drops its email: nothing is sent about it;
- a person who was sent a proposal email less than `proposal_email_interval` seconds ago
  (an hour by default) waits until the interval is over;
- the rest of one person's due proposal emails become one email ("5 new proposals for
  your organization"), the others dropped as folded into it. A single one goes as it was.

Only rows still `pending` are touched, so a row being sent or retried is never changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from itertools import groupby

import sqlalchemy as sa
from flask_babel import force_locale, ngettext

from coalition.config import current_settings
from coalition.events import names
from coalition.models.matches import Match, MatchState
from coalition.models.notifications import DeliveryState, EmailDelivery
from coalition.models.users import User
from coalition.notify.links import absolute, preferences_path
from coalition.services.mail import build_message
from coalition.sessions import Session

TEMPLATE = "proposal_batch"
GONE = "not sent: the proposal was no longer standing"
SUBJECT_PREFIX = "Coalition: "


def due_at(now: datetime) -> datetime:
    """When a proposal email recorded now comes due."""
    return now + timedelta(seconds=current_settings().proposal_email_delay)


def calm_due(session: Session, now: datetime) -> dict[str, int]:
    """Drop, hold and fold the proposal emails due now (see the module); flush only."""
    rows = _due_rows(session, now)
    if not rows:
        return {"dropped": 0, "held": 0, "folded": 0}
    standing = _standing(session, {r.match_id for r in rows if r.match_id is not None})
    last_sent = _last_sent(session, {r.user_id for r in rows if r.user_id is not None})
    interval = timedelta(seconds=current_settings().proposal_email_interval)
    counts = {"dropped": 0, "held": 0, "folded": 0}
    for user_id, group in groupby(rows, key=lambda r: r.user_id):
        live = []
        for row in group:
            if row.match_id in standing:
                live.append(row)
            else:
                _drop(row, GONE, now)
                counts["dropped"] += 1
        last = last_sent.get(user_id)
        if live and last is not None and now - last < interval:
            for row in live:
                row.next_attempt_at = last + interval
            counts["held"] += len(live)
        elif len(live) > 1:
            _fold(session, live, now)
            counts["folded"] += len(live) - 1
    session.flush()
    return counts


def _due_rows(session: Session, now: datetime) -> list[EmailDelivery]:
    """Pending proposal emails whose time has come, per person, oldest first."""
    return list(
        session.scalars(
            sa.select(EmailDelivery)
            .where(
                EmailDelivery.event_type == names.MATCH_PROPOSED,
                EmailDelivery.state == DeliveryState.PENDING,
                EmailDelivery.next_attempt_at <= now,
            )
            .order_by(EmailDelivery.user_id, EmailDelivery.id)
        )
    )


def _standing(session: Session, match_ids: set[int]) -> set[int]:
    """Those of the matches still proposed (not superseded, decided or closed)."""
    query = sa.select(Match.id).where(
        Match.id.in_(sorted(match_ids)), Match.state == MatchState.PROPOSED
    )
    return set(session.scalars(query))


def _last_sent(session: Session, user_ids: set[int]) -> dict[int, datetime]:
    """When each person was last sent a proposal email."""
    query = (
        sa.select(EmailDelivery.user_id, sa.func.max(EmailDelivery.sent_at))
        .where(
            EmailDelivery.event_type == names.MATCH_PROPOSED,
            EmailDelivery.state == DeliveryState.SENT,
            EmailDelivery.user_id.in_(sorted(user_ids)),
        )
        .group_by(EmailDelivery.user_id)
    )
    rows = session.execute(query)
    return {user_id: sent for user_id, sent in rows if user_id is not None and sent is not None}


def _drop(row: EmailDelivery, why: str, now: datetime) -> None:
    """Never send this row (it stays in the delivery log with the reason)."""
    row.state = DeliveryState.DROPPED
    row.last_error = why
    row.updated_at = now


def _fold(session: Session, rows: Sequence[EmailDelivery], now: datetime) -> None:
    """The first row carries one email about all of them; the others are dropped."""
    first, rest = rows[0], rows[1:]
    user = session.get(User, first.user_id)
    if user is None:
        return
    titles = [r.subject.removeprefix(SUBJECT_PREFIX) for r in rows]
    with force_locale(user.locale or "en"):
        if user.is_coordinator:
            title = ngettext(
                "%(num)d new proposal to review", "%(num)d new proposals to review", len(rows)
            )
        else:
            title = ngettext(
                "%(num)d new proposal for your organization",
                "%(num)d new proposals for your organization",
                len(rows),
            )
        subject = f"{SUBJECT_PREFIX}{title}"
        message = build_message(
            first.to_address,
            subject,
            TEMPLATE,
            headers={"Auto-Submitted": "auto-generated"},
            user=user,
            title=title,
            titles=titles,
            link=absolute("/matches"),
            preferences_link=absolute(preferences_path()),
        )
    first.subject, first.message = subject, message.as_string()
    for row in rest:
        _drop(row, f"not sent: folded into email {first.id}", now)
