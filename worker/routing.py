"""Handlers bound to routes: the types of the worker's handler table, and binding functions.

The routes (handler group -> event types) are data in `coalition.events.names.ROUTES`; the
broker topology is built from them. A handler table gives each routed event type of a group
the functions that handle it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from sqlalchemy.orm import Session

from coalition.events.envelope import Event
from coalition.events.topology import Routes

Handler = Callable[[Session, Event], None]
# group name -> event type -> handlers, e.g. {"matching": {"offer.posted": [on_listing_changed]}}
HandlerTable = Mapping[str, Mapping[str, Sequence[Handler]]]


def bind(routes: Routes, handlers: Mapping[str, Sequence[Handler]]) -> HandlerTable:
    """Give every event type routed to a group that group's handlers."""
    missing = sorted(set(routes) ^ set(handlers))
    if missing:
        raise ValueError(f"routes and handlers disagree on groups {', '.join(missing)}")
    return {group: {t: list(handlers[group]) for t in types} for group, types in routes.items()}


def routes_of(handlers: HandlerTable) -> dict[str, tuple[str, ...]]:
    """The routes a handler table serves: each group with handlers, and its event types."""
    return {
        group: tuple(sorted(t for t, funcs in table.items() if funcs))
        for group, table in handlers.items()
        if any(table.values())
    }
