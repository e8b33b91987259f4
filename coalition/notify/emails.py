"""Notification emails: multipart text and HTML, neutral wording when the organization
asked for it, built when the event is handled and sent by the worker after commit."""

from __future__ import annotations

import email
from datetime import datetime
from email.message import EmailMessage
from email.policy import default as default_policy

from flask_babel import gettext

from coalition.events.envelope import Event
from coalition.models.matches import Match
from coalition.models.notifications import EmailDelivery
from coalition.models.users import User
from coalition.notify.links import absolute, match_path, preferences_path
from coalition.notify.message import Message
from coalition.notify.outcome import Outcome
from coalition.notify.smtp import DeliveryError, Mailer, Outgoing
from coalition.security import sign
from coalition.services.mail import TOKEN_PLACEHOLDER, build_message

TEMPLATE = "match_notification"


def pending_email(
    event: Event, match: Match, user: User, message: Message, discreet: bool
) -> EmailDelivery:
    """Render the email for one person now; it is sent after the handler commits."""
    subject = gettext("Coalition: %(title)s", title=message.title)
    msg = build_message(
        user.email,
        subject,
        TEMPLATE,
        headers={"Auto-Submitted": "auto-generated"},
        user=user,
        message=message,
        discreet=discreet,
        link=absolute(match_path(match.id)),
        preferences_link=absolute(preferences_path()),
    )
    return EmailDelivery(
        event_id=event.id,
        event_type=event.type,
        user_id=user.id,
        match_id=match.id,
        to_address=user.email,
        subject=subject,
        message=msg.as_string(),
    )


def parse(delivery: EmailDelivery) -> EmailMessage:
    """The stored message, ready to send: a link's token is signed now and put in place."""
    message = email.message_from_string(delivery.message, policy=default_policy)
    assert isinstance(message, EmailMessage)
    if delivery.link_token:
        token = sign(delivery.link_token["purpose"], delivery.link_token["payload"])
        _fill_token(message, token)
    return message


def _fill_token(message: EmailMessage, token: str) -> None:
    """Replace the placeholder in every text part (decoded, so no encoding can split it)."""
    for part in message.walk():
        if part.get_content_maintype() != "text" or part.is_multipart():
            continue
        assert isinstance(part, EmailMessage)
        text = part.get_content()
        if TOKEN_PLACEHOLDER in text:
            part.set_content(
                text.replace(TOKEN_PLACEHOLDER, token), subtype=part.get_content_subtype()
            )


def send_one(delivery: EmailDelivery, now: datetime, mailer: Mailer) -> Outcome:
    """Send one stored email over the run's mailer (to the log when SMTP_URL is empty)."""
    try:
        mailer.send(Outgoing.of(parse(delivery), delivery.to_address))
    except DeliveryError as exc:
        return Outcome(False, exc.message, permanent=exc.kind == "permanent")
    return Outcome(True)
