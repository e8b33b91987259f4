"""The one SMTP client: notification emails and digests both go out through a `Mailer`.

Without SMTP_URL (the embedded default, `make run`) a mailer writes each message to the log
instead. Errors come back as a `DeliveryError` whose kind says what to do next: retry this
message later (`transient`), give up on it (`permanent`), or stop using the connection
(`connection`).
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import parseaddr
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from coalition.config import settings_of

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


@contextmanager
def smtp_connection(settings: SmtpSettings, timeout: float = 10.0) -> Iterator[smtplib.SMTP]:
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
        except (OSError, smtplib.SMTPException):
            conn.close()


class Sendable(Protocol):
    """A message on the wire, with what the log shows of it."""

    @property
    def to(self) -> str:
        """The envelope recipient."""

    @property
    def subject(self) -> str:
        """For the log."""

    @property
    def text(self) -> str:
        """The plain-text part, for the log."""

    @property
    def data(self) -> bytes:
        """The whole message, CRLF line endings."""


@dataclass(frozen=True)
class Outgoing:
    """A built email ready for a mailer."""

    to: str
    subject: str
    text: str
    data: bytes

    @classmethod
    def of(cls, message: EmailMessage, to: str = "") -> Outgoing:
        """The wire form of an `email` message (To from its header unless given)."""
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if isinstance(body, EmailMessage) else ""
        data = message.as_bytes(policy=SMTP)
        return cls(to or str(message["To"]), str(message["Subject"]), text, data)


class DeliveryError(Exception):
    """A message was not accepted: `kind` is transient, permanent or connection."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def classify(exc: Exception) -> DeliveryError:
    """Turn an smtplib or socket error into a retry decision."""
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return DeliveryError("connection", f"connection lost: {exc}")
    code, text = _smtp_code(exc)
    if code == 421 or (code is None and not isinstance(exc, smtplib.SMTPException)):
        return DeliveryError("connection", f"{code or ''} {text}".strip())
    if code is not None and code >= 500:
        return DeliveryError("permanent", f"{code} {text}")
    return DeliveryError("transient", f"{code or ''} {text}".strip())


def _smtp_code(exc: Exception) -> tuple[int | None, str]:
    """The SMTP reply code and text of an error, when it has one."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(exc.recipients.values()), (None, b""))
        return code, _text(reply)
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code, _text(exc.smtp_error)
    return None, f"{type(exc).__name__}: {exc}"


def _text(reply: bytes | str) -> str:
    """An SMTP reply as text."""
    return reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)


class Mailer:
    """Deliver many messages over one SMTP connection, or to the log without SMTP_URL."""

    def __init__(self, settings: SmtpSettings | None, sender: str, timeout: float = 10.0) -> None:
        self.settings = settings
        self.sender = parseaddr(sender)[1]
        self.timeout = timeout
        self._context: Any = None
        self._conn: smtplib.SMTP | None = None

    @classmethod
    def from_config(cls, config: Any, timeout: float = 10.0) -> Mailer:
        """A mailer for the app's SMTP_URL and MAIL_FROM."""
        settings = settings_of(config)
        return cls(parse_smtp_url(settings.smtp_url), settings.mail_from, timeout)

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, message: Sendable) -> None:
        """Deliver one message; raise DeliveryError when the server does not take it."""
        if self.settings is None:
            log.info(
                "email (no SMTP_URL configured):\nTo: %s\nSubject: %s\n\n%s",
                message.to,
                message.subject,
                message.text,
            )
            return
        try:
            self._connection().sendmail(self.sender, [message.to], message.data)
        except (OSError, smtplib.SMTPException) as exc:
            error = classify(exc)
            if error.kind == "connection":
                self.close()
            raise error from exc

    def _connection(self) -> smtplib.SMTP:
        """The open connection, opened on first use."""
        if self._conn is None:
            assert self.settings is not None
            context = smtp_connection(self.settings, timeout=self.timeout)
            self._conn = context.__enter__()
            self._context = context
        return self._conn

    def close(self) -> None:
        """Say QUIT, or just drop a broken connection."""
        context, self._context, self._conn = self._context, None, None
        if context is not None:
            try:
                context.__exit__(None, None, None)
            except (OSError, smtplib.SMTPException):
                log.debug("closing a broken SMTP connection", exc_info=True)
