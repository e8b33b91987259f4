"""Email: build multipart messages and send them after commit (over `notify.smtp`)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from flask import current_app, render_template
from sqlalchemy import event

from coalition.notify.smtp import DeliveryError, Mailer, Outgoing
from coalition.sessions import Session

log = logging.getLogger("coalition.mail")


def build_message(
    to: str,
    subject: str,
    template: str,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> EmailMessage:
    """Render `<template>.txt` and `<template>.html` into a multipart message."""
    msg = EmailMessage()
    msg["From"] = current_app.config["MAIL_FROM"]
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="coalition.local")
    for key, value in (headers or {}).items():
        msg[key] = value
    msg.set_content(render_template(f"email/{template}.txt", **context))
    msg.add_alternative(render_template(f"email/{template}.html", **context), subtype="html")
    return msg


def send_messages(messages: Iterable[EmailMessage]) -> int:
    """Deliver messages over one SMTP connection, or log them when SMTP is not configured."""
    batch = list(messages)
    with Mailer.from_config(current_app.config) as mailer:
        for msg in batch:
            mailer.send(Outgoing.of(msg))
    return len(batch)


def send_after_commit(session: Session, message: EmailMessage) -> None:
    """Queue a message that is sent only once the session's transaction commits."""
    session.info.setdefault("outgoing_mail", []).append(message)


@event.listens_for(Session, "after_commit")
def _send_queued_mail(session: Session) -> None:
    """Send the mail queued in a transaction once it has committed."""
    queued = session.info.pop("outgoing_mail", [])
    if queued:
        try:
            send_messages(queued)
        except DeliveryError:
            log.exception("could not send %d email(s) after commit", len(queued))


@event.listens_for(Session, "after_rollback")
def _drop_queued_mail(session: Session) -> None:
    """A rolled-back transaction sends nothing."""
    session.info.pop("outgoing_mail", None)
