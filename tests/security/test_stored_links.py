"""Reliability/security gap of issue 11: reset and invitation links are not stored in clear
in email_deliveries.message; the worker signs the token when it sends the email."""

from __future__ import annotations

import sqlalchemy as sa

from coalition.extensions import db
from coalition.models.notifications import EmailDelivery
from coalition.services.mail import TOKEN_PLACEHOLDER
from tests.factories import OrgAdminFactory, UserFactory
from tests.mail import deliver_emails, last_link

NEW = "a brand new password"


def _stored() -> EmailDelivery:
    db.session.expire_all()
    return db.session.scalars(sa.select(EmailDelivery).order_by(EmailDelivery.id.desc())).first()


def _token_of(link: str) -> str:
    return link.rstrip("/").rsplit("/", 1)[-1]


def test_a_reset_link_is_stored_without_its_token_and_works_once_sent(client, caplog):
    user = UserFactory()
    client.post("/reset", data={"email": user.email})
    stored = _stored().message
    assert f"/reset/{TOKEN_PLACEHOLDER}" in stored
    assert deliver_emails() == 1
    link = last_link(caplog)
    assert TOKEN_PLACEHOLDER not in link
    assert _token_of(link) not in _stored().message  # the sent token was never stored
    assert client.post(link, data={"password": NEW, "confirm": NEW}).status_code == 302


def test_an_invitation_link_is_stored_without_its_token_and_works_once_sent(login, caplog):
    admin = OrgAdminFactory()
    client = login(admin)
    form = {"email": "new.colleague@example.org", "name": "New Colleague", "role": "member"}
    assert client.post(f"/org/{admin.organization_id}/invitations", data=form).status_code == 302
    assert TOKEN_PLACEHOLDER in _stored().message
    assert deliver_emails() == 1
    link = last_link(caplog)
    assert _token_of(link) not in _stored().message
    assert client.get(link).status_code == 200
