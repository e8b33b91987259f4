"""Notification emails: multipart text and HTML, neutral wording when the organization
asked for it, built when the event is handled and sent after commit."""

from __future__ import annotations

import email
import smtplib
from datetime import datetime
from email.policy import default as default_policy
from typing import TYPE_CHECKING, Any

from flask import current_app

from coalition.events.envelope import Event
from coalition.models.matches import Match
from coalition.models.notifications import EmailDelivery
from coalition.models.users import User
from coalition.notify.delivery import Outcome
from coalition.notify.mail import build_message, send_messages

if TYPE_CHECKING:
    from coalition.notify.notifications import Message

TEMPLATE = "match_notification"


def absolute(path: str) -> str:
    """A link for emails, on BASE_URL."""
    return str(current_app.config["BASE_URL"]) + path


def pending_email(
    event: Event, match: Match, user: User, message: Message, discreet: bool
) -> EmailDelivery:
    """Render the email for one person now; it is sent after the handler commits."""
    from coalition.notify.notifications import match_path

    subject = f"Coalition: {message.title}"
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


def preferences_path() -> str:
    """The path of the notification preferences page."""
    return str(current_app.url_map.bind("localhost").build("matches.preferences", {}))


def parse(delivery: EmailDelivery) -> Any:
    """The stored message, ready to send."""
    return email.message_from_string(delivery.message, policy=default_policy)


def send_one(delivery: EmailDelivery, now: datetime) -> Outcome:
    """Send one stored email over SMTP (or to the log when SMTP_URL is empty)."""
    try:
        send_messages([parse(delivery)])
    except (OSError, smtplib.SMTPException) as exc:
        return Outcome(False, f"{type(exc).__name__}: {exc}")
    return Outcome(True)
