"""The dialect INSERT … ON CONFLICT helpers, on the suite's database."""

from __future__ import annotations

import sqlalchemy as sa

from coalition.database import insert_or_ignore, upsert
from coalition.extensions import db
from coalition.models.base import utcnow
from coalition.models.events import JobLease


def test_insert_or_ignore_keeps_the_first_row(app):
    now = utcnow()
    for holder in ("first", "second"):
        values = {"name": "job", "holder": holder, "expires_at": now, "runs": 0}
        db.session.execute(insert_or_ignore(db.session, JobLease, values, index_elements=["name"]))
    db.session.commit()
    assert db.session.scalars(sa.select(JobLease.holder)).all() == ["first"]


def test_insert_or_ignore_with_many_rows_returns_the_new_ones(app):
    now = utcnow()
    db.session.add(JobLease(name="a", holder="", expires_at=now, runs=0))
    db.session.flush()
    statement = insert_or_ignore(db.session, JobLease).returning(JobLease.name)
    rows = [{"name": n, "holder": "", "expires_at": now, "runs": 0} for n in ("a", "b", "c")]
    assert sorted(db.session.scalars(statement, rows)) == ["b", "c"]


def test_upsert_inserts_then_updates(app):
    now = utcnow()
    for _ in range(3):
        db.session.execute(
            upsert(
                db.session,
                JobLease,
                {"name": "job", "holder": "", "expires_at": now, "runs": 1},
                index_elements=["name"],
                set_={"runs": JobLease.runs + 1},
            )
        )
    db.session.commit()
    assert db.session.scalar(sa.select(JobLease.runs)) == 3
