"""The real handler table and the matching group's listing handler."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from coalition.events import names
from coalition.events.topology import subscriptions
from coalition.extensions import db
from coalition.models.base import utcnow
from coalition.models.events import OutboxEvent
from coalition.models.listings import Listing
from tests.listings_support import make_world, post
from worker.handlers import HANDLERS, LISTING_EVENTS, on_listing_changed
from worker.processing import Outcome, RetryPolicy, process


def test_every_group_has_handlers_and_listing_events_go_to_matching():
    assert set(subscriptions(HANDLERS)) == set(HANDLERS)
    assert set(LISTING_EVENTS) <= set(subscriptions(HANDLERS)["matching"])
    assert all(t in names.ALL_EVENTS for types in subscriptions(HANDLERS).values() for t in types)


def test_handling_a_listing_event_marks_its_version_seen_without_touching_it(app):
    listing = post(make_world().owner_org)
    old = utcnow() - timedelta(hours=2)
    db.session.execute(sa.update(Listing).values(version=3, updated_at=old))
    db.session.commit()
    payload = db.session.scalars(
        sa.select(OutboxEvent.payload).where(OutboxEvent.type == names.OFFER_POSTED)
    ).one()
    result = process(
        db.session,
        "matching",
        payload,
        {"matching": {names.OFFER_POSTED: [on_listing_changed]}},
        RetryPolicy(),
    )
    assert result.outcome is Outcome.DONE
    db.session.expire_all()
    assert (listing.seen_version, listing.version) == (3, 3)
    assert listing.updated_at == old
