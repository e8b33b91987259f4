"""The demo subscribes the coordinator and one member of each organization to a daily digest."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from coalition.demo import COORDINATOR_EMAIL, load_demo
from coalition.extensions import db
from coalition.models.base import utcnow
from coalition.models.digests import DigestFrequency, DigestSubscription
from coalition.models.organizations import Organization, OrgStatus
from coalition.models.users import User
from coalition.services.digests import due_period, next_due
from tests.digests.conftest import FlakySmtp, run


def test_demo_subscribes_the_coordinator_and_one_member_per_organization(
    app: Any, smtp: FlakySmtp
) -> None:
    load_demo(db.session)
    db.session.commit()

    subs = db.session.scalars(sa.select(DigestSubscription)).all()
    readers = [db.session.get(User, s.user_id) for s in subs]
    active_orgs = db.session.scalars(
        sa.select(Organization.id).where(Organization.status == OrgStatus.ACTIVE)
    ).all()
    assert sorted(u.organization_id for u in readers if u.organization_id) == sorted(active_orgs)
    assert [u.email for u in readers if u.is_coordinator] == [COORDINATOR_EMAIL]
    assert {(s.frequency, s.hour) for s in subs} == {(DigestFrequency.DAILY, 8)}
    assert all(s.is_receiving for s in subs)

    # subscribed days ago: today's 08:00 digest is due as soon as the worker looks
    today_8am = next_due(subs[0], utcnow() - timedelta(days=1))
    assert today_8am is not None and all(due_period(s, today_8am) for s in subs)
    # and the worker's own schedule sends each of them at 08:00 New York time
    report = run(next_due(subs[0], utcnow()), force=False)
    assert report.sent == len(subs) and len(smtp.messages) == len(subs)
