"""The real handler table and the matching group's listing handler."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from coalition.events import names
from coalition.extensions import db
from coalition.models.base import utcnow
from coalition.models.events import OutboxEvent
from coalition.models.listings import Listing
from coalition.notify.notifications import MATCH_EVENTS
from tests.listings_support import make_world, post
from worker.handlers import HANDLERS, on_listing_changed
from worker.processing import Outcome, RetryPolicy, process
from worker.routing import bind, routes_of


def test_every_group_has_handlers_and_listing_events_go_to_matching():
    assert set(routes_of(HANDLERS)) == set(HANDLERS)
    assert set(names.LISTING_EVENTS) <= set(routes_of(HANDLERS)["matching"])
    assert all(t in names.ALL_EVENTS for types in routes_of(HANDLERS).values() for t in types)


def test_the_handler_table_serves_exactly_the_routes_the_topology_is_built_from():
    assert routes_of(HANDLERS) == {g: tuple(sorted(t)) for g, t in names.ROUTES.items()}
    assert all(HANDLERS[g][t] for g, types in names.ROUTES.items() for t in types)


def test_notifications_are_routed_every_match_event_they_word():
    assert set(names.ROUTES["notifications"]) == set(MATCH_EVENTS)


def test_binding_refuses_a_group_without_handlers_or_without_routes():
    with pytest.raises(ValueError, match="impact"):
        bind({"matching": ("offer.posted",), "impact": ("match.fulfilled",)}, {"matching": [print]})
    with pytest.raises(ValueError, match="extra"):
        bind({"matching": ("offer.posted",)}, {"matching": [print], "extra": [print]})


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
