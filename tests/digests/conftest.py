"""Digest fixtures: a real SMTP server that can refuse or drop, organizations, listings."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from typing import Any

import pytest

from coalition.extensions import db
from coalition.models.base import utcnow
from coalition.models.digests import DigestFrequency, DigestScope, DigestSubscription
from coalition.notify.digest.run import RunReport
from tests.notify.servers import SmtpInbox, smtp_server
from worker.jobs import send_digests


class FlakySmtp(SmtpInbox):
    """An SMTP server that accepts, or refuses (451, 421, 550), or drops the connection."""

    def __init__(self) -> None:
        super().__init__()
        self.mode: str | None = None  # None accepts; "drop" closes; else the reply to DATA
        self.refused = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.mode == "drop":
            self.refused += 1
            server.transport.close()
            return "250 never heard"
        if self.mode is not None:
            self.refused += 1
            return self.mode
        return await super().handle_DATA(server, session, envelope)

    def addresses(self) -> list[str]:
        """Every To address received, in order (repeats included), without the names."""
        with self.lock:
            return [parseaddr(str(m["To"]))[1] for m in self.messages]


@pytest.fixture
def smtp(app: Any) -> Iterator[FlakySmtp]:
    """A local SMTP server the app sends to during the test."""
    inbox = FlakySmtp()
    with smtp_server(app, inbox):
        yield inbox


def subscribe(user: Any = None, **values: Any) -> DigestSubscription:
    """A confirmed daily subscription for a user (or an email-only one), committed."""
    defaults: dict[str, Any] = dict(
        frequency=DigestFrequency.DAILY,
        weekday=0,
        hour=8,
        timezone="America/New_York",
        kinds=[],
        categories=[],
        scope=DigestScope.COALITION,
        neutral_wording=False,
        send_empty=False,
        confirmed_at=utcnow() - timedelta(days=3),
    )
    defaults.update(values)
    sub = DigestSubscription(user_id=user.id if user is not None else None, **defaults)
    db.session.add(sub)
    db.session.commit()
    return sub


def run(now: datetime | None = None, force: bool = True) -> RunReport:
    """One digest run in the test's session."""
    return send_digests(db.session, now or utcnow(), force=force)


def at(text: str) -> datetime:
    """An aware UTC datetime from ISO text."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# ---------------------------------------------------------------- a small coalition


class World:
    """Two organizations 15 km apart, their people, a coordinator, and the listings of a day."""

    def __init__(self) -> None:
        from tests.factories import (
            CoordinatorFactory,
            OrgAdminFactory,
            OrganizationFactory,
            UserFactory,
        )

        self.harlem = OrganizationFactory(
            name="Harlem Harm Reduction", slug="harlem-hr", borough="Manhattan",
            lat=40.8116, lon=-73.9465,
        )  # fmt: skip
        self.bushwick = OrganizationFactory(
            name="Bushwick Outreach", slug="bushwick-outreach", borough="Brooklyn",
            lat=40.68, lon=-73.94,
        )  # fmt: skip
        self.harlem_member = UserFactory(organization=self.harlem, email="hana@harlem.example.org")
        self.harlem_admin = OrgAdminFactory(
            organization=self.harlem, email="abe@harlem.example.org"
        )
        self.bushwick_member = UserFactory(
            organization=self.bushwick, email="bo@bushwick.example.org"
        )
        self.coordinator = CoordinatorFactory(email="cora@coalition.example.org")

    def listing(self, org: Any, **values: Any) -> Any:
        """A listing posted an hour ago."""
        from tests.factories import ListingFactory, RequestFactory, category

        slug = values.pop("category", "naloxone-nasal-4mg")
        factory = RequestFactory if values.pop("request", False) else ListingFactory
        values.setdefault("created_at", utcnow() - timedelta(hours=1))
        return factory(organization=org, category=category(slug), **values)


@pytest.fixture
def world(app: Any) -> World:
    """The small coalition."""
    return World()
