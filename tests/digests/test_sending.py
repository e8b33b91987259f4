"""Exactly once per (recipient, period): restarts, several workers, a crashed worker, and an
SMTP server that refuses or drops the connection for a while."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from coalition.extensions import db
from coalition.models.base import utcnow
from coalition.models.digests import DigestSend, SendState
from coalition.models.events import OutboxEvent
from coalition.services import digests as service
from coalition.services.digests import scheduling
from tests.conftest import count
from tests.digests.conftest import FlakySmtp, World, run, subscribe
from tests.factories import UserFactory
from worker.jobs import send_digests

REFUSE = "451 4.3.0 Mailbox busy, try again later"
ROOT = Path(__file__).resolve().parents[2]


def many_subscribers(world: World, n: int) -> list[str]:
    """n members of Harlem, each subscribed; returns their addresses."""
    addresses = []
    for i in range(n):
        user = UserFactory(organization=world.harlem, email=f"member{i}@harlem.example.org")
        subscribe(user)
        addresses.append(user.email)
    return addresses


def received(smtp: FlakySmtp) -> list[str]:
    """Bare addresses of every delivered message (repeats included)."""
    return sorted(str(m["To"]).rsplit("<", 1)[-1].rstrip(">") for m in smtp.messages)


def states() -> list[SendState]:
    """The state of every send row."""
    return list(db.session.scalars(sa.select(DigestSend.state).order_by(DigestSend.id)))


@pytest.fixture
def busy_world(world: World) -> tuple[World, list[str]]:
    """Harlem members subscribed, and a Bushwick offer for all of them to read about."""
    world.listing(world.bushwick)
    return world, many_subscribers(world, 12)


def test_a_second_run_or_a_restart_sends_nothing_twice(
    busy_world: tuple[World, list[str]], smtp: FlakySmtp, caplog: pytest.LogCaptureFixture
) -> None:
    _, addresses = busy_world
    now = utcnow() + timedelta(minutes=1)
    first = run(now)
    again = run(now + timedelta(seconds=5))
    scheduled = run(now + timedelta(minutes=1), force=False)  # the worker's own schedule

    assert first.sent == 12 and again.sent == 0 and scheduled.sent == 0
    assert again.scheduled == 0 and scheduled.scheduled == 0
    assert received(smtp) == sorted(addresses)
    assert count(DigestSend) == 12 and states() == [SendState.SENT] * 12
    assert count(OutboxEvent) == 1  # one digest.due for the one scheduling pass
    assert "lost their claim" not in caplog.text  # every delivery was recorded as ours


def in_threads(app: Any, now: datetime, workers: int) -> list[Any]:
    """Run several senders at once, each in its own thread and session."""
    barrier = threading.Barrier(workers)
    reports: list[Any] = []
    errors: list[BaseException] = []

    def work() -> None:
        with app.app_context():
            try:
                barrier.wait()
                reports.append(send_digests(db.session, now, force=True))
            except BaseException as exc:  # noqa: BLE001 - reported to the test below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return reports


def test_several_workers_at_once_send_each_digest_once(
    app: Any,
    busy_world: tuple[World, list[str]],
    smtp: FlakySmtp,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, addresses = busy_world
    monkeypatch.setitem(app.config, "DIGEST_BATCH_SIZE", 3)
    reports = in_threads(app, utcnow() + timedelta(minutes=1), workers=3)

    assert sum(r.sent for r in reports) == 12
    assert sum(r.scheduled for r in reports) == 12
    assert received(smtp) == sorted(addresses)
    assert count(DigestSend) == 12 and states() == [SendState.SENT] * 12


@pytest.mark.slow
def test_two_worker_processes_send_each_digest_once(
    app: Any, busy_world: tuple[World, list[str]], smtp: FlakySmtp, tmp_path: Path
) -> None:
    _, addresses = busy_world
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SMTP_URL": app.config["SMTP_URL"],
        "SECRET_KEY": app.config["SECRET_KEY"],
        "BASE_URL": app.config["BASE_URL"],
        "BROKER_FOLDER": str(tmp_path / "queue"),
        "EVENTS_NUDGE": "0",
    }
    db.session.commit()
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "digests", "send", "--now"]
    processes = [
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120) for p in processes]

    assert [p.returncode for p in processes] == [0, 0], outputs
    sent = [int(out.decode().split(" sent")[0].split()[-1]) for out, _ in outputs]
    assert sum(sent) == 12
    assert received(smtp) == sorted(addresses)
    db.session.expire_all()
    assert count(DigestSend) == 12 and states() == [SendState.SENT] * 12


def test_a_crashed_workers_claim_is_sent_once_after_its_lease(
    busy_world: tuple[World, list[str]], smtp: FlakySmtp
) -> None:
    now = utcnow() + timedelta(minutes=1)
    service.schedule_due(db.session, now, force=True)
    claim = service.claim_batch(db.session, now, limit=5, lease_seconds=600)
    db.session.commit()  # ... and the worker dies before sending anything

    soon = run(now + timedelta(minutes=1))
    assert soon.sent == 7 and len(smtp.messages) == 7  # the other rows; the claimed five wait
    assert states().count(SendState.SENDING) == 5

    later = run(now + timedelta(minutes=11))
    assert later.sent == 5
    assert len(smtp.messages) == 12 and len(set(received(smtp))) == 12
    assert states() == [SendState.SENT] * 12
    assert len(claim.ids) == 5


def test_a_refusing_server_delays_digests_but_loses_none(
    busy_world: tuple[World, list[str]], smtp: FlakySmtp
) -> None:
    _, addresses = busy_world
    now = utcnow() + timedelta(minutes=1)
    smtp.mode = REFUSE
    first = run(now)
    assert (first.sent, first.retrying) == (0, 12) and smtp.messages == []
    rows = db.session.scalars(sa.select(DigestSend)).all()
    assert {r.state for r in rows} == {SendState.PENDING}
    assert {r.attempts for r in rows} == {1}
    assert all(r.last_error.startswith("451") for r in rows)
    assert all(r.next_attempt_at == now + timedelta(seconds=60) for r in rows)

    too_soon = run(now + timedelta(seconds=30))
    assert too_soon.handled == 0 and smtp.refused == 12  # backing off: not even tried

    second = run(now + timedelta(seconds=61))  # still refusing: the delay doubles
    assert second.retrying == 12
    db.session.expire_all()
    assert {r.next_attempt_at for r in db.session.scalars(sa.select(DigestSend))} == {
        now + timedelta(seconds=61 + 120)
    }

    smtp.mode = None
    third = run(now + timedelta(seconds=61 + 121))
    assert third.sent == 12
    assert received(smtp) == sorted(addresses)
    assert states() == [SendState.SENT] * 12


@pytest.mark.parametrize("mode", ["421 4.3.2 Shutting down", "drop"])
def test_a_closed_connection_puts_the_batch_back_for_later(
    busy_world: tuple[World, list[str]], smtp: FlakySmtp, mode: str
) -> None:
    _, addresses = busy_world
    now = utcnow() + timedelta(minutes=1)
    smtp.mode = mode
    first = run(now)
    assert (first.sent, first.retrying, first.released) == (0, 1, 11)
    assert smtp.refused == 1  # the run stopped at the first broken connection
    assert states() == [SendState.PENDING] * 12

    smtp.mode = None
    second = run(now + timedelta(seconds=61))
    assert second.sent == 12
    assert received(smtp) == sorted(addresses)
    assert states() == [SendState.SENT] * 12


def test_a_permanent_refusal_fails_and_is_visible(app: Any, world: World, smtp: FlakySmtp) -> None:
    world.listing(world.bushwick)
    subscribe(world.harlem_member)
    smtp.mode = "550 5.1.1 No such mailbox"
    report = run(utcnow() + timedelta(minutes=1))

    assert report.failed == 1
    send = db.session.scalar(sa.select(DigestSend))
    assert send.state == SendState.FAILED and send.last_error == "550 5.1.1 No such mailbox"
    assert "hana@harlem.example.org: 550" in report.errors[0]


def test_retries_give_up_after_the_maximum_attempts(
    app: Any, world: World, smtp: FlakySmtp, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.listing(world.bushwick)
    subscribe(world.harlem_member)
    smtp.mode = REFUSE
    monkeypatch.setitem(app.config, "DIGEST_MAX_ATTEMPTS", 3)
    now = utcnow() + timedelta(minutes=1)
    for hours in range(4):
        run(now + timedelta(hours=hours))
    send = db.session.scalar(sa.select(DigestSend))
    assert (send.state, send.attempts, smtp.refused) == (SendState.FAILED, 3, 3)


def no_on_conflict(session: Any, entity: Any) -> Any:
    """What `coalition.database.insert_or_ignore` does on a database without ON CONFLICT."""
    raise NotImplementedError("no ON CONFLICT here")


def test_inserting_an_existing_period_again_is_skipped_on_any_database(
    busy_world: tuple[World, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    now = utcnow()
    rows = service.due_rows(db.session, now, force=True)
    assert service.insert_sends(db.session, rows, now) == rows
    assert service.insert_sends(db.session, rows, now) == []  # ON CONFLICT DO NOTHING
    monkeypatch.setattr(scheduling, "insert_or_ignore", no_on_conflict)
    assert service.insert_sends(db.session, rows, now) == []  # IntegrityError, row by row
    first = rows[0].subscription_id
    db.session.execute(sa.delete(DigestSend).where(DigestSend.subscription_id == first))
    assert service.insert_sends(db.session, rows, now) == rows[:1]
    db.session.commit()
    assert count(DigestSend) == 12


def test_each_window_starts_where_the_last_one_ended(world: World, smtp: FlakySmtp) -> None:
    sub = subscribe(world.harlem_member, send_empty=True)
    first_at = service.next_due(sub, utcnow())
    run(first_at, force=False)
    second_at = service.next_due(sub, first_at)
    run(second_at, force=False)
    run(second_at + timedelta(hours=3), force=False)  # nothing more for that day

    windows = db.session.execute(
        sa.select(DigestSend.period_start, DigestSend.period_end).order_by(DigestSend.id)
    ).all()
    assert windows == [(first_at - timedelta(days=1), first_at), (first_at, second_at)]
    db.session.refresh(sub)
    assert sub.last_period_end == second_at and len(smtp.messages) == 2


def test_a_worker_that_lost_its_claim_does_not_overwrite_the_row(
    busy_world: tuple[World, list[str]], caplog: pytest.LogCaptureFixture
) -> None:
    now = utcnow()
    service.schedule_due(db.session, now, force=True)
    mine = service.claim_batch(db.session, now, limit=1, lease_seconds=60)
    later = now + timedelta(minutes=2)  # my lease ran out; another worker took the row
    theirs = service.claim_batch(db.session, later, limit=1, lease_seconds=60)
    assert mine.ids == theirs.ids

    send = db.session.get(DigestSend, mine.ids[0])
    service.mark_sent(db.session, [(send, "<mine@x>")], mine.token, later)

    db.session.refresh(send)
    assert send.state == SendState.SENDING and send.claim_token == theirs.token
    assert "lost their claim" in caplog.text
