"""Notifications on the web: the bell, reading, email preferences and webhook settings."""

from __future__ import annotations

import sqlalchemy as sa

from coalition.extensions import db
from coalition.models.audit import AuditEntry
from coalition.models.notifications import Notification, NotificationPreference, Webhook
from coalition.notify import notifications
from tests.conftest import count
from tests.factories import UserFactory
from tests.matches_support import make_pair


def page(response):
    return response.get_data(as_text=True)


def add_notifications(user, n):
    for i in range(n):
        db.session.add(
            Notification(
                user_id=user.id,
                event_id=f"00000000-0000-0000-0000-00000000000{i}",
                event_type="match.approved",
                title=f"Note {i}",
                body="line",
                link="/matches",
            )
        )
    db.session.commit()


def test_the_bell_shows_the_unread_count_and_marking_read_lowers_it(login):
    user = UserFactory()
    add_notifications(user, 3)
    client = login(user)
    assert 'data-unread="3"' in page(client.get("/"))
    first = db.session.scalars(sa.select(Notification).order_by(Notification.id)).first()
    response = client.post(f"/notifications/{first.id}/read")
    assert response.status_code == 302 and response.location.endswith("/matches")
    assert 'data-unread="2"' in page(client.get("/notifications"))
    client.post("/notifications/read-all")
    assert "data-unread" not in page(client.get("/"))
    assert notifications.unread_count(db.session, user.id) == 0


def test_nobody_reads_someone_elses_notification(login):
    owner = UserFactory()
    add_notifications(owner, 1)
    note = db.session.scalars(sa.select(Notification)).one()
    assert login(UserFactory()).post(f"/notifications/{note.id}/read").status_code == 404
    db.session.refresh(note)
    assert note.read_at is None


def test_email_preferences_turn_one_event_type_off(login):
    user = UserFactory()
    client = login(user)
    html = page(client.get("/notifications/preferences"))
    assert html.count('type="checkbox"') == len(notifications.MATCH_EVENTS)
    wanted = [t for t in notifications.MATCH_EVENTS if t != "match.proposed"]
    client.post("/notifications/preferences", data={"email": wanted})
    choices = notifications.email_choices(db.session, user.id)
    assert choices["match.proposed"] is False and choices["match.approved"] is True
    off = db.session.scalars(
        sa.select(NotificationPreference.event_type).where(NotificationPreference.email.is_(False))
    ).all()
    assert off == ["match.proposed"]
    assert count(AuditEntry) >= 1


# ---------------------------------------------------------------- webhook settings


def test_org_admins_set_a_webhook_and_see_its_secret_and_log(login):
    pair = make_pair()
    client = login(pair.giver_member)
    response = client.post(
        "/notifications/webhook", data={"url": "https://hooks.example.org/c", "active": "y"}
    )
    assert response.status_code == 302
    hook = db.session.scalars(sa.select(Webhook)).one()
    assert hook.organization_id == pair.giver.id and len(hook.secret) == 64
    html = page(client.get("/notifications/webhook"))
    assert hook.secret in html and "Delivery log" in html
    old = hook.secret
    client.post(
        "/notifications/webhook",
        data={"url": "https://hooks.example.org/c", "active": "y", "rotate": "y"},
    )
    db.session.refresh(hook)
    assert hook.secret != old


def test_a_bad_webhook_url_is_shown_on_the_form_and_saves_nothing(login):
    pair = make_pair()
    response = login(pair.giver_member).post("/notifications/webhook", data={"url": "ftp://x"})
    assert response.status_code == 422
    assert count(Webhook) == 0


def test_only_org_admins_manage_webhooks(login):
    member = UserFactory()
    assert login(member).get("/notifications/webhook").status_code == 403
    response = login(member).post("/notifications/webhook", data={"url": "https://x.example"})
    assert response.status_code == 403 and count(Webhook) == 0
