"""The digest on the wire: templates rendered into a multipart/alternative message with
one-click unsubscribe headers, and a Message-ID stable across attempts."""

from __future__ import annotations

import binascii
import random
from dataclasses import dataclass
from email.header import Header
from email.policy import compat32
from email.utils import format_datetime, formataddr, parseaddr
from functools import cache
from typing import Any

from flask import Flask
from flask_babel import get_translations
from jinja2 import Template

from coalition.config import settings_of
from coalition.notify.digest.content import DigestContent

WIRE = compat32.clone(linesep="\r\n")  # smtplib sends bytes as they are: CRLF is ours to write


@dataclass(frozen=True)
class Templates:
    """The compiled digest templates, fetched once per run."""

    text: Template
    html: Template

    @classmethod
    def load(cls, app: Flask) -> Templates:
        """From the app's Jinja environment (HTML autoescaped)."""
        env = app.jinja_env
        return cls(env.get_template("email/digest.txt"), env.get_template("email/digest.html"))


@dataclass(frozen=True)
class Rendered:
    """A digest ready to send."""

    message_id: str
    to: str
    subject: str
    text: str
    html: str
    data: bytes


def render_parts(templates: Templates, content: DigestContent) -> tuple[str, str]:
    """The plain-text and HTML bodies, with the translations looked up once per digest."""
    words = Words(get_translations())
    context = {
        "d": content,
        "r": content.recipient,
        "_": words.gettext,
        "gettext": words.gettext,
        "ngettext": words.ngettext,
        "tr": words.translated,
    }
    return templates.text.render(context), templates.html.render(context)


class Words:
    """gettext and ngettext on one catalog: Flask-Babel finds the catalog again on every call,
    which costs more than the rest of a digest's line. The results are plain strings, so the
    HTML template escapes them and every value in them."""

    def __init__(self, translations: Any) -> None:
        self.translations = translations

    def gettext(self, message: str, **values: Any) -> str:
        """The message in the reader's language, filled in."""
        text = self.translations.ugettext(message)
        return text % values if values else text

    def ngettext(self, singular: str, plural: str, num: int, **values: Any) -> str:
        """The singular or plural message for `num`, filled in (`num` included)."""
        return str(self.translations.ungettext(singular, plural, num) % {"num": num, **values})

    def translated(self, text: str | None) -> str:
        """A catalog label (category, unit) in the reader's language."""
        return self.translations.ugettext(text) if text else ""


def build_digest_message(
    app: Flask, templates: Templates, content: DigestContent, message_id: str
) -> Rendered:
    """A multipart/alternative message with one-click unsubscribe headers (RFC 8058)."""
    text, html = render_parts(templates, content)
    recipient = content.recipient
    headers: list[tuple[str, str | Header]] = [
        ("From", settings_of(app.config).mail_from),
        ("To", formataddr((recipient.name, recipient.address), charset="utf-8")),
        ("Subject", _header(content.subject)),
        ("Date", format_datetime(content.until)),
        ("Message-ID", message_id),
        ("List-Id", f"Coalition digest <digest.{_domain(app)}>"),
        ("List-Unsubscribe", f"<{recipient.unsubscribe_url}>, <{recipient.unsubscribe_mailto}>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ("Auto-Submitted", "auto-generated"),
    ]
    data = mime_alternative(headers, text, html)
    return Rendered(message_id, recipient.address, content.subject, text, html, data)


def mime_alternative(headers: list[tuple[str, str | Header]], text: str, html: str) -> bytes:
    """The message on the wire: folded headers, then a quoted-printable text and HTML part.

    Built by hand because the email package's generator encodes quoted-printable in Python,
    several times slower than binascii; the boundary starts with "=_", which quoted-printable
    text can never contain.
    """
    boundary = f"=_digest_{random.getrandbits(96):024x}".encode()
    head = b"".join(_fold(name, value) for name, value in headers)
    mime = b'MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="%s"\r\n' % boundary
    return b"".join(
        [head, mime, b"\r\n", *_part(boundary, b"plain", text), *_part(boundary, b"html", html),
         b"--", boundary, b"--\r\n"]
    )  # fmt: skip


def _fold(name: str, value: str | Header) -> bytes:
    """One header line; long ASCII lists break after their commas, the rest go to `email`."""
    if isinstance(value, str):
        value = " ".join(value.splitlines())  # a name with a line break must not add a header
    if isinstance(value, str) and value.isascii():
        if len(name) + len(value) > 76:
            value = value.replace(", ", ",\r\n ")
        return f"{name}: {value}\r\n".encode("ascii")
    return WIRE.fold_binary(name, value)  # type: ignore[arg-type]  # compat32 folds Headers


def _part(boundary: bytes, subtype: bytes, body: str) -> list[bytes]:
    """One body part after its boundary line."""
    encoded = binascii.b2a_qp(body.encode("utf-8"), istext=True).replace(b"\n", b"\r\n")
    return [
        b'--%s\r\nContent-Type: text/%s; charset="utf-8"\r\n' % (boundary, subtype),
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n",
        encoded,
        b"\r\n",
    ]


def _header(value: str) -> str | Header:
    """ASCII as is; anything else encoded."""
    return value if value.isascii() else Header(value, "utf-8")


@cache
def _sender(mail_from: str) -> tuple[str, str]:
    """The sender's address and domain (parsed once per MAIL_FROM)."""
    address = parseaddr(mail_from)[1] or "no-reply@coalition.local"
    return address, address.rpartition("@")[2] or "coalition.local"


def _domain(app: Flask) -> str:
    """The domain of the sender address."""
    return _sender(settings_of(app.config).mail_from)[1]


def digest_message_id(app: Flask, subscription_id: int, period_key: str) -> str:
    """The same Message-ID for every attempt at one period's digest, so copies can be deduped."""
    return f"<digest.{subscription_id}.{period_key}@{_domain(app)}>"


def unsubscribe_mailto(app: Flask, token: str) -> str:
    """The mailto alternative of List-Unsubscribe."""
    return f"mailto:{_sender(app.config['MAIL_FROM'])[0]}?subject=unsubscribe%20{token}"
