"""Email that a use case asks for (invitations, password resets, digest confirmations).

Nothing is sent here: `queue_email` writes an `EmailDelivery` row in the caller's
transaction, and the worker's delivery job sends it after the commit, with the same claim,
retry, backoff and delivery log as every notification email. A request rolled back sends
nothing; an SMTP server that is down delays the email instead of losing it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from flask import render_template

from coalition.config import current_settings
from coalition.models.notifications import EmailDelivery
from coalition.sessions import Session


def build_message(
    to: str,
    subject: str,
    template: str,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> EmailMessage:
    """Render `<template>.txt` and `<template>.html` into a multipart message."""
    msg = EmailMessage()
    msg["From"] = current_settings().mail_from
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="coalition.local")
    for key, value in (headers or {}).items():
        msg[key] = value
    msg.set_content(render_template(f"email/{template}.txt", **context))
    msg.add_alternative(render_template(f"email/{template}.html", **context), subtype="html")
    return msg


# What a reset or invitation link carries instead of its token until the worker sends it:
# whoever reads email_deliveries (a backup, the ops pages) finds no working link there.
TOKEN_PLACEHOLDER = "coalition-link-token"


@dataclass(frozen=True)
class LinkToken:
    """A signed token to put in a message at send time (`coalition.security.sign`)."""

    purpose: str
    payload: dict[str, Any]


def queue_email(
    session: Session,
    message: EmailMessage,
    kind: str,
    user_id: int | None = None,
    link_token: LinkToken | None = None,
) -> EmailDelivery:
    """Record a pending delivery of `message`; the worker sends it once this commits. With
    `link_token`, the message holds TOKEN_PLACEHOLDER where the signed token goes."""
    delivery = EmailDelivery(
        event_id=str(uuid.uuid4()),
        event_type=kind,
        user_id=user_id,
        to_address=str(message["To"]),
        subject=str(message["Subject"]),
        message=message.as_string(),
        link_token=None
        if link_token is None
        else {"purpose": link_token.purpose, "payload": link_token.payload},
    )
    session.add(delivery)
    return delivery
