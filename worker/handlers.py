"""The explicit handler table: each group of `ROUTES` (one durable queue each) and its handlers.

A handler is `handler(session, event) -> None`; it changes the database through services
(flush, never commit). The consumer runs every handler of a group for an event in one
transaction with the group's inbox row, commits once, and only then acknowledges.
Only groups that have handlers exist: a group is a queue the broker keeps filling.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from coalition.events.envelope import Event
from coalition.events.names import ROUTES
from coalition.notify.notifications import notify_match_event
from coalition.services.forecast import refresh as refresh_forecast
from coalition.services.impact import record_fulfilled
from coalition.services.inventory import apply_fulfilled
from coalition.services.match_lifecycle import auto_approve_proposal
from coalition.services.proactive import evaluate as evaluate_suggestions
from coalition.services.proposals import propose_for_listing
from worker.routing import HandlerTable, bind


def on_listing_changed(session: Session, event: Event) -> None:
    """Propose matches for a new or changed listing; close those of a withdrawn one."""
    propose_for_listing(session, int(event.data["id"]))


def on_match_event(session: Session, event: Event) -> None:
    """In-app notifications, and pending emails and webhooks (sent later by a periodic job)."""
    notify_match_event(session, event)


def on_match_proposed(session: Session, event: Event) -> None:
    """Approve the proposal when an auto-approval rule covers it."""
    auto_approve_proposal(session, int(event.data["id"]))


def on_match_fulfilled(session: Session, event: Event) -> None:
    """Count a fulfilled match in the impact figures (impact_facts)."""
    record_fulfilled(session, int(event.data["id"]))


def on_match_fulfilled_stock(session: Session, event: Event) -> None:
    """Move a fulfilled supply transfer out of the giver's stock and into the receiver's."""
    apply_fulfilled(session, int(event.data["id"]))


def on_stock_counted(session: Session, event: Event) -> None:
    """Forecast again the organization x category whose stock changed, then create or
    withdraw the forecast's suggested request or offer."""
    org_id, category_id = int(event.data["org_id"]), int(event.data["category_id"])
    refresh_forecast(session, org_id, category_id)
    evaluate_suggestions(session, org_id, category_id)


HANDLERS: HandlerTable = bind(
    ROUTES,
    {
        "matching": [on_listing_changed],
        "notifications": [on_match_event],
        "auto-approval": [on_match_proposed],
        "impact": [on_match_fulfilled],
        "stock": [on_match_fulfilled_stock],
        "forecast": [on_stock_counted],
    },
)
