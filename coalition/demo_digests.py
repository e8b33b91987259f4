"""Demo digest subscriptions: the coordinator and one member of each organization."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from coalition.models.base import utcnow
from coalition.models.digests import DigestFrequency, DigestScope, DigestSubscription
from coalition.models.users import OrgRole, User
from coalition.services.digests import default_timezone
from coalition.sessions import Session

DEMO_HOUR = 8


def subscribe_demo_digests(session: Session, summary: Any) -> int:
    """Subscribe the coordinator and one member per organization to a daily 08:00 digest.

    The subscriptions are dated two days back, so once today's 08:00 has passed the worker
    sends the first digests as soon as `make run` starts it.
    """
    readers = [_coordinator(session, summary.coordinator_email)] + [
        _member(session, org) for org in summary.orgs
    ]
    since = utcnow() - timedelta(days=2)
    subscribed = 0
    for user in filter(None, readers):
        session.add(_subscription(user, since))
        subscribed += 1
    session.flush()
    if hasattr(summary, "digests"):
        summary.digests = subscribed
    return subscribed


def _coordinator(session: Session, email: str) -> User | None:
    """The demo coordinator."""
    return session.scalar(sa.select(User).where(User.email == email))


def _member(session: Session, org: Any) -> User | None:
    """A member (not the admin) of an active organization, or its admin if alone."""
    if not org.is_active:
        return None
    people = session.scalars(
        sa.select(User).where(User.organization_id == org.id).order_by(User.id)
    ).all()
    members = [p for p in people if p.org_role == OrgRole.MEMBER] or list(people)
    return members[0] if members else None


def _subscription(user: User, since: Any) -> DigestSubscription:
    """A daily digest at 08:00 in the organization's zone, confirmed since `since`."""
    org = user.organization
    return DigestSubscription(
        user_id=user.id,
        frequency=DigestFrequency.DAILY,
        weekday=0,
        hour=DEMO_HOUR,
        timezone=default_timezone(org),
        kinds=[],
        categories=[],
        scope=DigestScope.COALITION,
        neutral_wording=bool(org and org.discreet_wording),
        send_empty=False,
        confirmed_at=since,
        created_at=since,
    )
