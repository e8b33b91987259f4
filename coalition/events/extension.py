"""The events of one app: its routes, its nudger, and the after-commit nudge the factory registers.

`register_events(app)` is called by `create_app`: it keeps the routes the app publishes with
(`names.ROUTES`; tests may swap them with `use_routes`) and installs the Session listeners
that publish a transaction's events right after its commit (the nudge) and forget those of a
rolled-back one. An app that did not register events records outbox rows but never nudges.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from coalition.config import settings_of
from coalition.events.names import ROUTES
from coalition.events.publisher import Nudger
from coalition.events.topology import Routes

log = logging.getLogger("coalition.events.publisher")
KEY = "coalition.events"


@dataclass
class EventsState:
    """What the app keeps for its events."""

    routes: Routes
    nudger: Nudger | None = None


def register_events(app: Flask, routes: Routes = ROUTES) -> None:
    """Keep the app's routes and install the after-commit nudge (once per process)."""
    app.extensions[KEY] = EventsState(routes)
    if not sa_event.contains(Session, "after_commit", _nudge_after_commit):
        sa_event.listen(Session, "after_commit", _nudge_after_commit)
        sa_event.listen(Session, "after_transaction_end", _nudge_after_release)
        sa_event.listen(Session, "after_soft_rollback", _forget_rolled_back)


def events_state(app: Flask) -> EventsState:
    """The app's events state (register_events must have run)."""
    return app.extensions[KEY]  # type: ignore[no-any-return]


def routes(app: Flask) -> Routes:
    """The routes the app's publishers, status pages and replays use."""
    return events_state(app).routes


def use_routes(app: Flask, new_routes: Routes) -> None:
    """Publish with other routes from now on (tests route to their own handler groups)."""
    reset(app)
    events_state(app).routes = new_routes


def nudger_for(app: Flask) -> Nudger:
    """The app's nudger, created on first use."""
    state = events_state(app)
    if state.nudger is None:
        state.nudger = Nudger(app.config, state.routes)
    return state.nudger


def reset(app: Flask) -> None:
    """Forget the app's nudger (after the broker configuration changed, in tests)."""
    state = app.extensions.get(KEY)
    if state is not None and state.nudger is not None:
        state.nudger.publisher.close()
        state.nudger = None


def _nudge_after_commit(session: Session) -> None:
    """Keep the events this transaction committed for `_nudge_after_release`."""
    pending = session.info.pop("outbox_pending", None)
    if pending:
        session.info.setdefault("outbox_committed", []).extend(pending)


def _nudge_after_release(session: Session, transaction: Any) -> None:
    """Publish the committed events once the session has given its connection back, so a
    request never holds two connections (the nudge opens its own); never fail the request."""
    if transaction.parent is not None:
        return
    pending = session.info.pop("outbox_committed", None)
    if not pending or not has_app_context():
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if KEY not in app.extensions or not settings_of(app.config).events_nudge:
        return
    try:
        nudger_for(app).nudge(session.get_bind(), pending)
    except Exception:  # noqa: BLE001 - the outbox row is safe; the relay will publish it
        log.exception("nudge failed; the relay will publish %d event(s)", len(pending))


def _forget_rolled_back(session: Session, previous_transaction: Any) -> None:
    """Events of a rolled-back transaction were never recorded (a savepoint keeps the rest)."""
    if previous_transaction.parent is None:
        session.info.pop("outbox_pending", None)
