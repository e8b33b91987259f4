"""Emails in tests: the worker's delivery job sends them after the request, and with no SMTP
configured (as in tests) it writes them to the log, where these helpers read them."""

from __future__ import annotations

import re

import pytest

from coalition.extensions import db
from worker.jobs import deliver_due

LINK = re.compile(r"http://coalition\.test(/\S+)")


def deliver_emails() -> int:
    """Run the worker's delivery job now, as the worker does after a request commits."""
    return deliver_due(db.session)


def logged_emails(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The text of every email logged by coalition.mail."""
    return [r.getMessage() for r in caplog.records if r.name == "coalition.mail"]


def last_link(caplog: pytest.LogCaptureFixture) -> str:
    """The path of the last link in the last logged email."""
    emails = logged_emails(caplog)
    assert emails, "no email was written to the log"
    links = LINK.findall(emails[-1])
    assert links, f"no link in the email: {emails[-1]}"
    return links[-1]
