"""Reading the emails the app wrote to the log (no SMTP configured in tests)."""

from __future__ import annotations

import re

import pytest

LINK = re.compile(r"http://coalition\.test(/\S+)")


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
