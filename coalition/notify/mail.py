"""Email: build multipart messages, send them over SMTP, or write them to the log."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import current_app, render_template
from sqlalchemy import event
from sqlalchemy.orm import Session

from coalition import sessions

log = logging.getLogger("coalition.mail")


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to deliver mail, parsed from SMTP_URL."""

    host: str
    port: int
    ssl: bool
    starttls: bool
    username: str | None
    password: str | None


def parse_smtp_url(url: str) -> SmtpSettings | None:
    """Parse `smtp://user:pass@host:port` (`smtps://` for TLS, `?starttls=1`); empty means log."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in {"smtp", "smtps"}:
        raise ValueError(f"SMTP_URL must start with smtp:// or smtps://, not {parts.scheme}://")
    ssl = parts.scheme == "smtps"
    return SmtpSettings(
        host=parts.hostname or "localhost",
        port=parts.port or (465 if ssl else 25),
        ssl=ssl,
        starttls="starttls=1" in parts.query,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


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


@contextmanager
def smtp_connection(settings: SmtpSettings, timeout: float = 10.0):  # type: ignore[no-untyped-def]
    """Open, authenticate and finally close an SMTP connection."""
    cls = smtplib.SMTP_SSL if settings.ssl else smtplib.SMTP
    conn = cls(settings.host, settings.port, timeout=timeout)
    try:
        if settings.starttls:
            conn.starttls()
        if settings.username:
            conn.login(settings.username, settings.password or "")
        yield conn
    finally:
        try:
            conn.quit()
        except smtplib.SMTPException:
            conn.close()


def send_messages(messages: Iterable[EmailMessage]) -> int:
    """Deliver messages over one SMTP connection, or log them when SMTP is not configured."""
    batch = list(messages)
    if not batch:
        return 0
    settings = parse_smtp_url(current_app.config["SMTP_URL"])
    if settings is None:
        for msg in batch:
            log.info("email (no SMTP_URL configured):\n%s", _loggable(msg))
        return len(batch)
    with smtp_connection(settings) as conn:
        for msg in batch:
            conn.send_message(msg)
    return len(batch)


def _loggable(msg: EmailMessage) -> str:
    """Headers and the plain-text part, for the log."""
    body = msg.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    return f"To: {msg['To']}\nSubject: {msg['Subject']}\n\n{text}"


def send_after_commit(session: sessions.Session, message: EmailMessage) -> None:
    """Queue a message that is sent only once the session's transaction commits."""
    session.info.setdefault("outgoing_mail", []).append(message)


@event.listens_for(Session, "after_commit")
def _send_queued_mail(session: Session) -> None:
    """Send the mail queued in a transaction once it has committed."""
    queued = session.info.pop("outgoing_mail", [])
    if queued:
        try:
            send_messages(queued)
        except (OSError, smtplib.SMTPException):
            log.exception("could not send %d email(s) after commit", len(queued))


@event.listens_for(Session, "after_rollback")
def _drop_queued_mail(session: Session) -> None:
    """A rolled-back transaction sends nothing."""
    session.info.pop("outgoing_mail", None)
