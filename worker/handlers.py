"""The explicit handler table: per handler group (one durable queue each), event type -> handlers.

A handler is `handler(session, event) -> None`; it changes the database through services
(flush, never commit). The consumer runs every handler of a group for an event in one
transaction with the group's inbox row, commits once, and only then acknowledges.
Only groups that have handlers exist: a group is a queue the broker keeps filling.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from coalition.events import names
from coalition.events.envelope import Event
from coalition.events.topology import Handler, HandlerTable
from coalition.notify.notifications import MATCH_EVENTS, on_match_event
from coalition.services.impact import on_match_fulfilled
from coalition.services.match_lifecycle import on_match_proposed
from coalition.services.proposals import propose_for_listing


def on_listing_changed(session: Session, event: Event) -> None:
    """Propose matches for a new or changed listing; close those of a withdrawn one."""
    propose_for_listing(session, int(event.data["id"]))


LISTING_EVENTS = (
    names.OFFER_POSTED,
    names.OFFER_UPDATED,
    names.OFFER_WITHDRAWN,
    names.REQUEST_POSTED,
    names.REQUEST_UPDATED,
    names.REQUEST_WITHDRAWN,
)

MATCHING: dict[str, list[Handler]] = {
    event_type: [on_listing_changed] for event_type in LISTING_EVENTS
}

# In-app notifications, pending emails and webhooks (sent after commit by a periodic job).
NOTIFICATIONS: dict[str, list[Handler]] = {
    event_type: [on_match_event] for event_type in MATCH_EVENTS
}

HANDLERS: HandlerTable = {
    "matching": MATCHING,
    "notifications": NOTIFICATIONS,
    "auto-approval": {names.MATCH_PROPOSED: [on_match_proposed]},
    # the impact figures' summary table (impact_facts), one row per fulfilled match
    "impact": {names.MATCH_FULFILLED: [on_match_fulfilled]},
}
