"""Who is notified of which match event, on which channel, once; discretion and wording;
sending emails to a real SMTP server and signed webhooks to a real HTTP receiver."""

from __future__ import annotations

import email
import logging
from datetime import timedelta
from email.policy import default as default_policy

import pytest
import sqlalchemy as sa

from coalition.events.envelope import from_envelope
from coalition.extensions import db
from coalition.models.base import utcnow
from coalition.models.events import OutboxEvent
from coalition.models.notifications import (
    DeliveryState,
    EmailDelivery,
    Notification,
    NotificationPreference,
    WebhookDelivery,
)
from coalition.models.users import User
from coalition.notify import delivery, webhooks
from coalition.notify.notifications import notify_match_event
from coalition.services import match_lifecycle as service
from tests.conftest import count
from tests.matches_support import leaks, make_pair
from tests.notify.servers import smtp_server, webhook_receiver
from worker.handlers import HANDLERS
from worker.jobs import deliver_due
from worker.processing import Outcome, RetryPolicy, process

pytestmark = pytest.mark.usefixtures("app")


def last_event(type_):
    row = db.session.scalars(
        sa.select(OutboxEvent).where(OutboxEvent.type == type_).order_by(OutboxEvent.id.desc())
    ).first()
    return from_envelope(row.payload)


def handle(type_):
    event = last_event(type_)
    notify_match_event(db.session, event)
    db.session.commit()
    return event


def notified(event_id):
    return sorted(
        db.session.scalars(sa.select(Notification.user_id).where(Notification.event_id == event_id))
    )


def emails_for(event_id):
    return {
        row.to_address: row
        for row in db.session.scalars(
            sa.select(EmailDelivery).where(EmailDelivery.event_id == event_id)
        )
    }


def hook_for(org, url="http://127.0.0.1:9/hook"):
    hook = webhooks.save_webhook(db.session, None, org, url, active=True)
    db.session.commit()
    return hook


# ---------------------------------------------------------------- who hears what


def test_a_proposal_tells_both_organizations_and_the_coordinators():
    pair = make_pair()
    event = handle("match.proposed")
    people = {pair.giver_member.id, pair.receiver_member.id, pair.coordinator.id}
    assert set(notified(event.id)) == people
    assert set(emails_for(event.id)) == {
        pair.giver_member.email,
        pair.receiver_member.email,
        pair.coordinator.email,
    }
    assert all(e.state == DeliveryState.PENDING for e in emails_for(event.id).values())


def test_the_person_who_acted_is_not_notified_of_their_own_action():
    pair = make_pair()
    service.approve(db.session, pair.coordinator, pair.match)
    service.accept(db.session, pair.giver_member, pair.match)
    db.session.commit()
    event = handle("match.accepted")
    assert notified(event.id) == [pair.receiver_member.id]


def test_handling_an_event_twice_writes_nothing_new():
    pair = make_pair()
    hook_for(pair.giver)
    event = handle("match.proposed")
    before = (count(Notification), count(EmailDelivery), count(WebhookDelivery))
    notify_match_event(db.session, event)
    db.session.commit()
    assert (count(Notification), count(EmailDelivery), count(WebhookDelivery)) == before
    assert before == (3, 3, 1)


def test_the_worker_runs_the_notifications_group_once_per_event():
    make_pair()
    body = db.session.scalars(
        sa.select(OutboxEvent.payload).where(OutboxEvent.type == "match.proposed")
    ).one()
    policy = RetryPolicy()
    first = process(db.session, "notifications", body, HANDLERS, policy)
    second = process(db.session, "notifications", body, HANDLERS, policy)
    assert (first.outcome, second.outcome) == (Outcome.DONE, Outcome.DUPLICATE)
    assert count(Notification) == 3 and count(EmailDelivery) == 3


def test_an_opted_out_person_gets_the_bell_but_no_email():
    pair = make_pair()
    db.session.add(
        NotificationPreference(
            user_id=pair.receiver_member.id, event_type="match.proposed", email=False
        )
    )
    db.session.commit()
    event = handle("match.proposed")
    assert pair.receiver_member.id in notified(event.id)
    assert pair.receiver_member.email not in emails_for(event.id)
    assert pair.giver_member.email in emails_for(event.id)


def test_proposals_superseded_by_the_resolve_or_already_decided_notify_nobody():
    pair = make_pair()
    service.approve(db.session, pair.coordinator, pair.match)
    db.session.commit()
    event = handle("match.proposed")  # handled late: the approval announces it instead
    assert notified(event.id) == []
    from coalition.events.outbox import emit

    emit(db.session, "match.cancelled", {"id": pair.match.id, "superseded": True}, "matching")
    db.session.commit()
    assert notified(handle("match.cancelled").id) == []


def test_auto_approval_runs_as_a_worker_handler():
    from coalition.models.catalog import Kind

    pair = make_pair(requested=10)
    service.create_rule(db.session, pair.coordinator, Kind.SUPPLY, None, 10)
    db.session.commit()
    body = db.session.scalars(
        sa.select(OutboxEvent.payload).where(OutboxEvent.type == "match.proposed")
    ).one()
    result = process(db.session, "auto-approval", body, HANDLERS, RetryPolicy())
    assert result.outcome == Outcome.DONE
    db.session.refresh(pair.match)
    assert pair.match.state.value == "approved"
    assert last_event("match.approved").data["auto_rule"]


# ---------------------------------------------------------------- discretion and wording


def test_before_approval_notifications_and_emails_do_not_name_the_other_side():
    pair = make_pair()
    event = handle("match.proposed")
    for member, org in ((pair.giver_member, pair.giver), (pair.receiver_member, pair.receiver)):
        note = db.session.scalar(
            sa.select(Notification).where(
                Notification.event_id == event.id, Notification.user_id == member.id
            )
        )
        mail = emails_for(event.id)[member.email]
        for text in (note.title, note.body, mail.subject, mail.message):
            assert leaks(text, org) == [], text
    giver_note = emails_for(event.id)[pair.giver_member.email].message
    assert "a member organization in Brooklyn, 15 km away" in giver_note
    receiver_note = emails_for(event.id)[pair.receiver_member.email].message
    assert "a member organization in Manhattan, 15 km away" in receiver_note


def test_coordinators_see_both_names_in_their_notification():
    pair = make_pair()
    event = handle("match.proposed")
    mail = emails_for(event.id)[pair.coordinator.email].message
    assert "Harlem Harm Reduction" in mail and "Bushwick Outreach" in mail


def test_after_approval_both_sides_see_each_others_name():
    pair = make_pair()
    service.approve(db.session, pair.coordinator, pair.match)
    db.session.commit()
    event = handle("match.approved")
    assert "Bushwick Outreach" in emails_for(event.id)[pair.giver_member.email].message
    assert "Harlem Harm Reduction" in emails_for(event.id)[pair.receiver_member.email].message


def test_discreet_organizations_get_neutral_wording_by_email_and_webhook():
    pair = make_pair(receiver={"discreet_wording": True})
    hook_for(pair.receiver)
    event = handle("match.proposed")
    discreet = emails_for(event.id)[pair.receiver_member.email]
    plain = emails_for(event.id)[pair.giver_member.email]
    for text in (discreet.subject, discreet.message):
        assert "aloxone" not in text and "4 mg" not in text and "nasal" not in text
    assert "Medical supplies" in discreet.subject
    assert "Naloxone nasal spray 4 mg" in plain.subject
    payload = db.session.scalars(sa.select(WebhookDelivery.payload)).one()
    assert (
        "aloxone" not in str(payload) and payload["match"]["category_label"] == "Medical supplies"
    )


def test_emails_are_multipart_text_and_html():
    pair = make_pair()
    with smtp_server(pair_app()) as inbox:
        handle("match.proposed")
        assert deliver_due(db.session) == 3
    message = inbox.to(pair.giver_member.email)[0]
    plain, html = inbox.texts(message)
    assert "Possible match: 40 units (4 mg nasal spray) of Naloxone" in plain
    assert "<p>" in html and "/matches/" in html
    assert message["Auto-Submitted"] == "auto-generated"


def pair_app():
    from flask import current_app

    return current_app._get_current_object()


# ---------------------------------------------------------------- sending


def test_each_email_is_sent_once_even_when_delivery_runs_again():
    pair = make_pair()
    with smtp_server(pair_app()) as inbox:
        handle("match.proposed")
        assert deliver_due(db.session) == 3
        assert deliver_due(db.session) == 0
        notify_match_event(db.session, last_event("match.proposed"))
        db.session.commit()
        assert deliver_due(db.session) == 0
    assert len(inbox.messages) == 3
    assert len(inbox.to(pair.receiver_member.email)) == 1
    states = db.session.scalars(sa.select(EmailDelivery.state)).all()
    assert set(states) == {DeliveryState.SENT}


def test_without_smtp_the_email_goes_to_the_log(caplog):
    pair = make_pair()
    handle("match.proposed")
    with caplog.at_level(logging.INFO, logger="coalition.mail"):
        deliver_due(db.session)
    logged = [r.getMessage() for r in caplog.records if r.name == "coalition.mail"]
    assert any(pair.giver_member.email in text for text in logged)
    assert {e.state for e in db.session.scalars(sa.select(EmailDelivery))} == {DeliveryState.SENT}


def test_an_unreachable_smtp_server_is_retried_with_backoff(app):
    from tests.conftest import free_port

    make_pair()
    handle("match.proposed")
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{free_port()}"
    try:
        now = utcnow()
        assert deliver_due(db.session, now) == 3
    finally:
        app.config["SMTP_URL"] = ""
    rows = db.session.scalars(sa.select(EmailDelivery)).all()
    assert {r.state for r in rows} == {DeliveryState.RETRY}
    base = app.config["NOTIFY_RETRY_BASE"]
    assert {r.next_attempt_at for r in rows} == {now + timedelta(seconds=base)}
    assert deliver_due(db.session, now) == 0  # not due yet
    assert deliver_due(db.session, now + timedelta(seconds=base)) == 3
    assert {r.state for r in db.session.scalars(sa.select(EmailDelivery))} == {DeliveryState.SENT}


def test_an_smtp_outage_is_retried_for_a_day_then_coordinators_are_alerted_once(app):
    from coalition.models.notifications import Notification
    from tests.conftest import free_port
    from tests.factories import CoordinatorFactory

    make_pair()
    handle("match.proposed")
    CoordinatorFactory()  # a second coordinator, told once as well
    queued = max(r.created_at for r in db.session.scalars(sa.select(EmailDelivery)))
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{free_port()}"
    now, gaps = queued, []
    try:
        while db.session.scalar(
            sa.select(sa.func.count()).where(EmailDelivery.state != DeliveryState.FAILED)
        ):
            deliver_due(db.session, now)
            db.session.expire_all()
            waiting = db.session.scalars(
                sa.select(EmailDelivery.next_attempt_at).where(
                    EmailDelivery.state == DeliveryState.RETRY
                )
            ).all()
            if not waiting:
                break
            gaps.append(min(waiting) - now)
            now = min(waiting)
            assert now - queued < timedelta(days=2)
    finally:
        app.config["SMTP_URL"] = ""
    rows = db.session.scalars(sa.select(EmailDelivery)).all()
    assert {r.state for r in rows} == {DeliveryState.FAILED}
    assert now - queued >= timedelta(days=1)  # kept trying for a day
    assert max(gaps) <= timedelta(seconds=app.config["NOTIFY_RETRY_MAX"])  # capped backoff
    assert min(r.attempts for r in rows) > app.config["NOTIFY_MAX_ATTEMPTS"]
    alerts = db.session.scalars(
        sa.select(Notification).where(Notification.event_type == "email.undeliverable")
    ).all()
    coordinators = {
        u.id for u in db.session.scalars(sa.select(User).where(User.coalition_role.is_not(None)))
    }
    assert sorted(a.user_id for a in alerts) == sorted(coordinators)  # once each, 3 emails
    assert "not getting through" in alerts[0].title


def test_webhooks_are_signed_and_verified_by_the_receiver():
    pair = make_pair()
    with webhook_receiver() as receiver:
        hook = hook_for(pair.giver, receiver.base + "/giver")
        receiver.secrets["/giver"] = hook.secret
        event = handle("match.proposed")
        deliver_due(db.session)
    (got,) = receiver.valid_for("/giver")
    assert got.headers["X-Coalition-Event"] == "match.proposed"
    assert got.headers["X-Coalition-Delivery"] == event.id
    body = got.json
    assert body["event"]["id"] == event.id and body["organization"] == "harlem-hr"
    assert body["match"]["request"]["organization"] is None
    assert leaks(got.body.decode(), pair.giver) == []
    row = db.session.scalars(sa.select(WebhookDelivery)).one()
    assert (row.state, row.response_code, row.attempts) == (DeliveryState.SENT, 204, 1)


def test_a_wrong_secret_fails_verification():
    assert webhooks.verify("secret", b"{}", webhooks.sign("secret", b"{}"))
    assert not webhooks.verify("other", b"{}", webhooks.sign("secret", b"{}"))
    assert not webhooks.verify("secret", b"{ }", webhooks.sign("secret", b"{}"))


def test_failing_webhooks_are_retried_with_exponential_backoff_then_given_up(app):
    pair = make_pair()
    app.config["NOTIFY_MAX_ATTEMPTS"] = 3
    try:
        with webhook_receiver() as receiver:
            hook = hook_for(pair.giver, receiver.base + "/h")
            receiver.secrets["/h"] = hook.secret
            receiver.fail["/h"] = 10
            handle("match.proposed")
            now = utcnow()
            deliver_due(db.session, now)
            row = db.session.scalars(sa.select(WebhookDelivery)).one()
            base = timedelta(seconds=app.config["NOTIFY_RETRY_BASE"])
            assert (row.state, row.response_code) == (DeliveryState.RETRY, 500)
            assert row.next_attempt_at == now + base
            now += base
            deliver_due(db.session, now)
            db.session.refresh(row)
            assert row.next_attempt_at == now + 2 * base and row.attempts == 2
            deliver_due(db.session, now + 2 * base)
            db.session.refresh(row)
            assert (row.state, row.attempts, row.last_error) == (
                DeliveryState.FAILED,
                3,
                "HTTP 500",
            )
            assert deliver_due(db.session, now + timedelta(days=1)) == 0
        assert len(receiver.received) == 3
    finally:
        app.config["NOTIFY_MAX_ATTEMPTS"] = 6


def test_a_retry_after_a_failure_succeeds_once():
    pair = make_pair()
    with webhook_receiver() as receiver:
        hook = hook_for(pair.giver, receiver.base + "/h")
        receiver.secrets["/h"] = hook.secret
        receiver.fail["/h"] = 1
        handle("match.proposed")
        now = utcnow()
        deliver_due(db.session, now)
        deliver_due(db.session, now + timedelta(hours=1))
        deliver_due(db.session, now + timedelta(hours=2))
    assert len(receiver.valid_for("/h")) == 2  # the 500, then the success
    bodies = [r.json for r in receiver.valid_for("/h")]
    assert [b["attempt"] for b in bodies] == [1, 2]
    assert db.session.scalars(sa.select(WebhookDelivery.state)).one() == DeliveryState.SENT


def test_a_send_interrupted_by_a_worker_stop_is_never_repeated():
    make_pair()
    with smtp_server(pair_app()) as inbox:
        handle("match.proposed")
        now = utcnow()
        row_id = db.session.scalars(sa.select(EmailDelivery.id).order_by(EmailDelivery.id)).first()
        # a worker claimed this row, committed, and died before recording the outcome
        assert delivery.claim(db.session, EmailDelivery, row_id, now)
        db.session.commit()
        assert deliver_due(db.session, now) == 2
        lease = timedelta(seconds=pair_app().config["NOTIFY_CLAIM_SECONDS"])
        assert deliver_due(db.session, now + lease + timedelta(seconds=1)) == 0
    assert len(inbox.messages) == 2
    row = db.session.get(EmailDelivery, row_id)
    assert row.state == DeliveryState.INTERRUPTED and "not re-sent" in row.last_error


def test_a_webhook_send_interrupted_by_a_worker_stop_is_sent_again_with_the_same_key():
    pair = make_pair()
    with webhook_receiver() as receiver:
        hook = hook_for(pair.giver, receiver.base + "/h")
        receiver.secrets["/h"] = hook.secret
        handle("match.proposed")
        now = utcnow()
        row = db.session.scalars(sa.select(WebhookDelivery)).one()
        # a worker claimed this row, committed, and died before (or while) posting it
        assert delivery.claim(db.session, WebhookDelivery, row.id, now)
        db.session.commit()
        lease = timedelta(seconds=pair_app().config["NOTIFY_CLAIM_SECONDS"])
        deliver_due(db.session, now + lease + timedelta(seconds=1))
        deliver_due(db.session, now + lease + timedelta(seconds=2))
    db.session.refresh(row)
    assert row.state == DeliveryState.SENT
    received = receiver.valid_for("/h")
    assert len(received) == 1
    assert received[0].headers["Idempotency-Key"] == row.event_id
    assert received[0].headers["X-Coalition-Delivery"] == row.event_id


def test_an_org_admin_sends_a_failed_delivery_again(login):
    from tests.factories import OrgAdminFactory

    pair = make_pair()
    admin = OrgAdminFactory(organization=pair.giver)
    with webhook_receiver() as receiver:
        hook = hook_for(pair.giver, receiver.base + "/h")
        receiver.secrets["/h"] = hook.secret
        handle("match.proposed")
        row = db.session.scalars(sa.select(WebhookDelivery)).one()
        row.state, row.attempts, row.last_error = DeliveryState.FAILED, 6, "HTTP 500"
        db.session.commit()
        client = login(admin)
        page = client.get("/notifications/webhook").text
        assert "Send again" in page
        url = f"/notifications/webhook/deliveries/{row.id}/redeliver"
        assert client.post(url).status_code == 302
        db.session.refresh(row)
        assert (row.state, row.attempts) == (DeliveryState.PENDING, 0)
        assert client.post(url).status_code == 409  # pending: nothing to send again
        deliver_due(db.session, utcnow() + timedelta(seconds=1))
    db.session.refresh(row)
    assert row.state == DeliveryState.SENT
    assert [r.headers["Idempotency-Key"] for r in receiver.valid_for("/h")] == [row.event_id]
    other_admin = OrgAdminFactory(organization=pair.receiver)
    assert login(other_admin).post(url).status_code == 404  # another organization's delivery


def test_a_paused_webhook_gets_nothing():
    pair = make_pair()
    hook = hook_for(pair.giver)
    webhooks.save_webhook(db.session, None, pair.giver, hook.url, active=False)
    db.session.commit()
    handle("match.proposed")
    assert count(WebhookDelivery) == 0


def test_webhook_urls_must_be_http():
    pair = make_pair()
    from coalition.services.errors import ServiceError

    for url in ("ftp://x.example/hook", "not a url", "http:///nohost"):
        with pytest.raises(ServiceError) as raised:
            webhooks.save_webhook(db.session, None, pair.giver, url, active=True)
        assert raised.value.field == "url"


def test_each_person_is_told_in_their_own_language():
    pair = make_pair()
    pair.giver_member.locale = "es"
    db.session.commit()
    event = handle("match.proposed")
    note = db.session.scalar(
        sa.select(Notification).where(
            Notification.event_id == event.id, Notification.user_id == pair.giver_member.id
        )
    )
    assert note.title.startswith("Posible emparejamiento: ")
    assert "Coordinación la revisa antes de compartir nombres y contactos." in note.body
    spanish = emails_for(event.id)[pair.giver_member.email]
    assert spanish.subject.startswith("Coalition: Posible emparejamiento")
    body = email.message_from_string(spanish.message, policy=default_policy)
    text = body.get_body(("plain",)).get_content()
    assert text.startswith(f"Hola, {pair.giver_member.name}:")
    assert "Vea el emparejamiento en Coalition:" in text
    english = emails_for(event.id)[pair.receiver_member.email]
    assert english.subject.startswith("Coalition: Possible match")
