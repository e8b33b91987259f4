"""Scheduling: the `digest_sends` row of a (subscription, period) is inserted once, under a
unique key, so any number of schedulers insert it at most once and fix its window then."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from coalition.database import insert_or_ignore
from coalition.events import names
from coalition.events.outbox import emit
from coalition.models.digests import DigestSend, DigestSubscription, SendState
from coalition.models.organizations import Organization, OrgStatus
from coalition.models.users import User
from coalition.services.digests.periods import (
    SCHEDULE_FIELDS,
    current_period,
    due_period,
    window_start,
)
from coalition.sessions import Session

SENDS = cast(sa.Table, DigestSend.__table__)
SUBSCRIPTIONS = cast(sa.Table, DigestSubscription.__table__)


@dataclass(frozen=True)
class DueRow:
    """A digest that should exist for one subscription and one period."""

    subscription_id: int
    period_key: str
    period_start: datetime
    period_end: datetime
    recipient: str


def receiving_query() -> sa.Select[Any]:
    """Active, confirmed subscriptions whose reader may still act on the platform."""
    user_org, sub_org = aliased(Organization), aliased(Organization)
    user_ok = sa.or_(
        DigestSubscription.user_id.is_(None),
        sa.and_(
            User.disabled.is_(False),
            sa.or_(User.coalition_role.is_not(None), user_org.status == OrgStatus.ACTIVE),
        ),
    )
    org_ok = sa.or_(
        DigestSubscription.organization_id.is_(None), sub_org.status == OrgStatus.ACTIVE
    )
    return (
        sa.select(
            DigestSubscription.id,
            *(getattr(DigestSubscription, name) for name in SCHEDULE_FIELDS),
            sa.func.coalesce(User.email, DigestSubscription.email).label("address"),
        )
        .outerjoin(User, DigestSubscription.user_id == User.id)
        .outerjoin(user_org, User.organization_id == user_org.id)
        .outerjoin(sub_org, DigestSubscription.organization_id == sub_org.id)
        .where(
            DigestSubscription.active.is_(True),
            DigestSubscription.confirmed_at.is_not(None),
            user_ok,
            org_ok,
        )
    )


def due_rows(session: Session, now: datetime, force: bool = False) -> list[DueRow]:
    """The digests due now that do not exist yet; `force` takes every current period as due.

    A digest covers what happened from the end of the previous one until it is composed.
    """
    candidates = []
    for sub in session.execute(receiving_query()):
        period = (
            current_period(sub.frequency, sub.weekday, sub.hour, sub.timezone, now)
            if force
            else due_period(sub, now)
        )
        if period is not None:
            candidates.append(DueRow(sub.id, period.key, window_start(sub, now), now, sub.address))
    existing = _existing_keys(session, {row.period_key for row in candidates})
    return [r for r in candidates if (r.subscription_id, r.period_key) not in existing]


def _existing_keys(session: Session, keys: set[str]) -> set[tuple[int, str]]:
    """(subscription, period) pairs that already have a send row."""
    if not keys:
        return set()
    rows = session.execute(
        sa.select(DigestSend.subscription_id, DigestSend.period_key).where(
            DigestSend.period_key.in_(sorted(keys))
        )
    )
    return {(r[0], r[1]) for r in rows}


def schedule_due(session: Session, now: datetime, force: bool = False) -> int:
    """Insert the send rows of every digest due now; another scheduler's rows are kept.

    Each subscription's next window starts where the inserted one ends, so windows are
    contiguous whatever happens to a send; a retry sends its own window again.
    """
    inserted = insert_sends(session, due_rows(session, now, force), now)
    _advance(session, inserted)
    if inserted:
        data = {"count": len(inserted), "at": now.isoformat()}
        emit(session, names.DIGEST_DUE, data, "system:digests")
    return len(inserted)


def insert_sends(session: Session, rows: list[DueRow], now: datetime) -> list[DueRow]:
    """Insert pending rows; a row whose (subscription, period) exists already is skipped."""
    values = [
        {
            "subscription_id": r.subscription_id,
            "period_key": r.period_key,
            "period_start": r.period_start,
            "period_end": r.period_end,
            "recipient": r.recipient,
            "state": SendState.PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
            "updated_at": now,
        }
        for r in rows
    ]
    if not values:
        return []
    try:
        statement = insert_or_ignore(session, DigestSend)
    except NotImplementedError:  # a database without ON CONFLICT
        keys = _insert_one_by_one(session, values)
    else:
        returning = statement.returning(DigestSend.subscription_id, DigestSend.period_key)
        keys = {(r[0], r[1]) for r in session.execute(returning, values)}
    return [r for r in rows if (r.subscription_id, r.period_key) in keys]


def _advance(session: Session, rows: list[DueRow]) -> None:
    """Move each subscription's `last_period_end` to the end of its new window."""
    if not rows:
        return
    last = SUBSCRIPTIONS.c.last_period_end
    statement = (
        SUBSCRIPTIONS.update()
        .where(
            SUBSCRIPTIONS.c.id == sa.bindparam("sub_id"),
            sa.or_(last.is_(None), last < sa.bindparam("end")),
        )
        .values(last_period_end=sa.bindparam("end"))
    )
    session.execute(statement, [{"sub_id": r.subscription_id, "end": r.period_end} for r in rows])


def _insert_one_by_one(session: Session, values: list[dict[str, Any]]) -> set[tuple[int, str]]:
    """Elsewhere: one savepoint per row, a duplicate key's IntegrityError skips it."""
    inserted = set()
    for row in values:
        try:
            with session.begin_nested():
                session.execute(sa.insert(DigestSend).values(**row))
            inserted.add((row["subscription_id"], row["period_key"]))
        except IntegrityError:
            continue
    return inserted
