"""One email path: invitations, resets and digest confirmations are delivery rows written in
the request's transaction and sent by the worker's delivery job, with retry and backoff."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from coalition.extensions import db
from coalition.models.base import utcnow
from coalition.models.notifications import DeliveryState, EmailDelivery
from coalition.security import verify_password
from tests.conftest import count, free_port
from tests.factories import OrgAdminFactory, UserFactory
from tests.notify.servers import smtp_server
from worker.jobs import deliver_due

NEW = "a brand new password"


def test_a_reset_requested_while_smtp_is_down_is_delivered_once_it_is_back(
    app: Any, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = UserFactory()
    monkeypatch.setitem(app.config, "SMTP_URL", f"smtp://127.0.0.1:{free_port()}")  # nobody
    assert client.post("/reset", data={"email": user.email}).status_code == 302
    now = utcnow()

    assert deliver_due(db.session, now) == 1
    row = db.session.scalars(sa.select(EmailDelivery)).one()
    assert (row.state, row.attempts, row.user_id) == (DeliveryState.RETRY, 1, user.id)
    assert "refused" in row.last_error.lower()

    with smtp_server(app) as inbox:
        assert deliver_due(db.session, now) == 0  # waits for its backoff
        later = now + timedelta(seconds=app.config["NOTIFY_RETRY_BASE"])
        assert deliver_due(db.session, later) == 1
        assert deliver_due(db.session, later + timedelta(hours=1)) == 0
    (message,) = inbox.to(user.email)
    assert message["Subject"] == "Reset your Coalition password"
    db.session.refresh(row)
    assert (row.state, row.attempts, row.last_error) == (DeliveryState.SENT, 2, "")

    plain, _ = inbox.texts(message)
    link = plain.split("http://coalition.test", 1)[1].split()[0]
    assert client.post(link, data={"password": NEW, "confirm": NEW}).status_code == 302
    db.session.refresh(user)
    assert verify_password(user.password_hash, NEW)


def test_an_invitation_is_a_pending_delivery_until_the_worker_sends_it(
    app: Any, login: Any
) -> None:
    admin = OrgAdminFactory()
    with smtp_server(app) as inbox:
        response = login(admin).post(
            f"/org/{admin.organization_id}/invitations",
            data={"email": "new@example.org", "role": "member"},
        )
        assert response.status_code == 302
        row = db.session.scalars(sa.select(EmailDelivery)).one()
        assert (row.state, row.user_id, row.to_address) == (
            DeliveryState.PENDING,
            None,
            "new@example.org",
        )
        assert inbox.messages == []  # nothing left inside the request
        assert deliver_due(db.session) == 1
    (message,) = inbox.to("new@example.org")
    assert "/invitations/" in inbox.texts(message)[0]


def test_a_refused_request_queues_no_email(login: Any) -> None:
    admin = OrgAdminFactory()
    other = UserFactory()
    response = login(admin).post(
        f"/org/{admin.organization_id}/invitations", data={"email": other.email, "role": "member"}
    )
    assert response.status_code == 422
    assert count(EmailDelivery) == 0
