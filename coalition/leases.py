"""Claiming rows with a lease: each row goes to exactly one claimer until its lease runs out.

A claim is a conditional UPDATE that re-checks what makes a row claimable, so it holds on
SQLite (one writer at a time) and on PostgreSQL alike. For a batch, PostgreSQL first locks
the candidates with `FOR UPDATE SKIP LOCKED`, so claimers side by side take different rows
(in one `UPDATE … IN (SELECT … SKIP LOCKED)` PostgreSQL may re-run the subquery and claim
past the limit); SQLite claims in one `UPDATE … WHERE key IN (SELECT … LIMIT n)`, atomic
under its write lock. Nothing here commits: the caller commits the claim before it acts on
the rows, because a lease protects nothing until the other claimers can see it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute

from coalition.sessions import Session


def new_token() -> str:
    """A claim token no other claim has."""
    return uuid.uuid4().hex


def lease_until(now: datetime, seconds: float) -> datetime:
    """When a lease taken `now` for `seconds` runs out."""
    return now + timedelta(seconds=seconds)


def lapsed(until: InstrumentedAttribute[Any], now: datetime) -> sa.ColumnElement[bool]:
    """The row has no lease, or its lease ran out before `now`."""
    return sa.or_(until.is_(None), until < now)


def claim_rows(
    session: Session,
    key: InstrumentedAttribute[Any],
    claimable: sa.ColumnElement[bool],
    values: Mapping[Any, Any],
    *,
    limit: int,
    order_by: Sequence[Any] = (),
) -> list[Any]:
    """Set `values` on up to `limit` claimable rows (first by `order_by`); their keys, sorted."""
    candidates = sa.select(key).where(claimable).order_by(*(order_by or (key,))).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        locked = session.scalars(candidates.with_for_update(skip_locked=True)).all()
        if not locked:
            return []
        target = key.in_(locked)
    else:
        target = key.in_(candidates.scalar_subquery())
    claimed = session.scalars(
        sa.update(key.class_)
        .where(target, claimable)
        .values(dict(values))
        .returning(key)
        .execution_options(synchronize_session=False)
    ).all()
    return sorted(claimed)


def claim_row(
    session: Session, entity: Any, claimable: sa.ColumnElement[bool], values: Mapping[Any, Any]
) -> bool:
    """Set `values` on the one row `claimable` names if it still is claimable; True if so."""
    result = session.execute(
        sa.update(entity)
        .where(claimable)
        .values(dict(values))
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def extend_lease(
    session: Session,
    until: InstrumentedAttribute[Any],
    held: sa.ColumnElement[bool],
    new_until: datetime,
) -> int:
    """Move the lease of the rows still `held` to `new_until`; how many were still held."""
    result = session.execute(
        sa.update(until.class_)
        .where(held)
        .values({until: new_until})
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
