"""Real servers for notification tests: an SMTP server (aiosmtpd) and an HTTP receiver that
verifies webhook signatures. Both listen on free loopback ports (safe under xdist)."""

from __future__ import annotations

import email
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from coalition.notify.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from tests.conftest import free_port


class SmtpInbox:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        with self.lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Any]:
        """Messages addressed to someone."""
        with self.lock:
            return [m for m in self.messages if m["To"] == address]

    def texts(self, message: Any) -> tuple[str, str]:
        """The plain and the HTML part of a message."""
        plain = message.get_body(preferencelist=("plain",)).get_content()
        html = message.get_body(preferencelist=("html",)).get_content()
        return plain, html


@contextmanager
def smtp_server(app: Any, inbox: SmtpInbox | None = None) -> Iterator[SmtpInbox]:
    """An SMTP server in this process; the app sends to it while the block runs."""
    inbox = inbox or SmtpInbox()
    # aiosmtpd 1.4.6 cannot bind port 0: find a free port first
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    saved = app.config["SMTP_URL"]
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{controller.port}"
    try:
        yield inbox
    finally:
        app.config["SMTP_URL"] = saved
        controller.stop()


@dataclass
class Received:
    """One POST the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes
    valid: bool

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class WebhookReceiver:
    """A local HTTP server; `secrets[path]` verifies signatures, `fail[path]` counts 500s."""

    secrets: dict[str, str] = field(default_factory=dict)
    fail: dict[str, int] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    base: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def valid_for(self, path: str) -> list[Received]:
        """Validly signed POSTs to a path."""
        with self.lock:
            return [r for r in self.received if r.path == path and r.valid]

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> int:
        """Record a POST; answer 500 while `fail[path]` lasts, 401 on a bad signature."""
        secret = self.secrets.get(path, "")
        valid = bool(secret) and verify(secret, body, headers.get(SIGNATURE_HEADER, ""))
        if valid:
            valid = json.loads(body)["timestamp"] == int(headers.get(TIMESTAMP_HEADER, "-1"))
        with self.lock:
            self.received.append(Received(path, headers, body, valid))
            if self.fail.get(path, 0) > 0:
                self.fail[path] -= 1
                return 500
        return 204 if valid else 401


@contextmanager
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """Serve a WebhookReceiver on a free port in a thread."""
    receiver = WebhookReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status = receiver.handle(self.path, dict(self.headers.items()), body)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.base = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
