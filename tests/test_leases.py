"""Claiming rows with a lease, on the suite's database (SQLite, or PostgreSQL in the server leg)."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from coalition import leases
from coalition.extensions import db
from coalition.models.base import utcnow
from coalition.models.events import OutboxEvent


def add_rows(n: int) -> list[int]:
    """`n` committed outbox rows, the table these tests claim from."""
    rows = [
        OutboxEvent(event_id=str(uuid.uuid4()), type="offer.posted", payload={"n": i})
        for i in range(n)
    ]
    db.session.add_all(rows)
    db.session.commit()
    return [row.id for row in rows]


def claim(session, limit: int, seconds: float = 30.0, token: str = "") -> list[int]:
    """Claim free outbox rows for `seconds` under `token`."""
    now = utcnow()
    values = {
        OutboxEvent.claimed_by: token or leases.new_token(),
        OutboxEvent.claimed_until: leases.lease_until(now, seconds),
    }
    free = leases.lapsed(OutboxEvent.claimed_until, now)
    return leases.claim_rows(session, OutboxEvent.id, free, values, limit=limit)


def test_a_claim_takes_up_to_the_limit_in_order_and_sets_the_values(app):
    ids = add_rows(5)
    assert claim(db.session, 3, token="mine") == ids[:3]
    db.session.commit()
    tokens = db.session.scalars(sa.select(OutboxEvent.claimed_by).order_by(OutboxEvent.id))
    assert list(tokens) == ["mine"] * 3 + [None] * 2


def test_claimed_rows_are_taken_again_only_after_the_lease_ran_out(app):
    ids = add_rows(4)
    assert claim(db.session, 10) == ids
    assert claim(db.session, 10) == []
    db.session.execute(
        sa.update(OutboxEvent)
        .where(OutboxEvent.id.in_(ids[:2]))
        .values(claimed_until=utcnow() - timedelta(seconds=1))
    )
    assert claim(db.session, 10) == ids[:2]


def test_order_by_picks_which_rows_come_first(app):
    ids = add_rows(4)
    taken = leases.claim_rows(
        db.session,
        OutboxEvent.id,
        OutboxEvent.claimed_by.is_(None),
        {OutboxEvent.claimed_by: "x"},
        limit=2,
        order_by=[OutboxEvent.id.desc()],
    )
    assert taken == ids[2:]  # returned in key order


def test_concurrent_claimers_split_the_rows(app):
    ids = add_rows(120)
    taken: list[list[int]] = []

    def claim_all() -> None:
        mine: list[int] = []
        with app.app_context():
            while batch := claim(db.session, 7, seconds=600):
                db.session.commit()
                mine += batch
            db.session.commit()
            db.session.remove()
        taken.append(mine)

    threads = [threading.Thread(target=claim_all) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    every = sorted(row_id for mine in taken for row_id in mine)
    assert every == ids


def test_postgresql_skips_the_rows_another_claim_holds_locked(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks exist on PostgreSQL only (SQLite has one writer at a time)")
    ids = add_rows(6)
    holder = sa.orm.Session(db.engine)
    other = sa.orm.Session(db.engine)
    try:
        assert claim(holder, 2) == ids[:2]  # locked, not yet committed
        other.execute(sa.text("SET LOCAL lock_timeout = '2s'"))  # waiting would fail the test
        assert claim(other, 2) == ids[2:4]
        other.commit()
        holder.rollback()  # the first claim never happened: its rows are free again
        assert claim(other, 10) == [*ids[:2], *ids[4:]]
        other.commit()
    finally:
        holder.close()
        other.close()


def test_claim_row_is_a_compare_and_set(app):
    [row_id] = add_rows(1)
    unclaimed = sa.and_(OutboxEvent.id == row_id, OutboxEvent.claimed_by.is_(None))
    assert leases.claim_row(db.session, OutboxEvent, unclaimed, {OutboxEvent.claimed_by: "a"})
    assert not leases.claim_row(db.session, OutboxEvent, unclaimed, {OutboxEvent.claimed_by: "b"})
    db.session.commit()
    assert db.session.get(OutboxEvent, row_id).claimed_by == "a"


def test_racing_single_row_claims_have_one_winner(app):
    [row_id] = add_rows(1)
    winners: list[str] = []

    def contend(name: str) -> None:
        with app.app_context():
            unclaimed = sa.and_(OutboxEvent.id == row_id, OutboxEvent.claimed_by.is_(None))
            if leases.claim_row(db.session, OutboxEvent, unclaimed, {OutboxEvent.claimed_by: name}):
                winners.append(name)
            db.session.commit()
            db.session.remove()

    threads = [threading.Thread(target=contend, args=(f"w{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(winners) == 1


def test_extend_lease_moves_only_the_rows_still_held(app):
    ids = add_rows(3)
    claim(db.session, 2, seconds=1, token="mine")
    later = utcnow() + timedelta(hours=1)
    held = OutboxEvent.claimed_by == "mine"
    assert leases.extend_lease(db.session, OutboxEvent.claimed_until, held, later) == 2
    db.session.commit()
    until = dict(db.session.execute(sa.select(OutboxEvent.id, OutboxEvent.claimed_until)).all())
    assert until[ids[0]] == until[ids[1]] == later and until[ids[2]] is None
