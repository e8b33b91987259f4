"""Recording events in the outbox, inside the caller's transaction."""

from __future__ import annotations

from typing import Any

from coalition.events import publisher as _publisher  # noqa: F401  (registers the nudge)
from coalition.events.envelope import Event, to_envelope
from coalition.models.events import OutboxEvent
from coalition.sessions import Session


def record(session: Session, event: Event) -> OutboxEvent:
    """Add the event to the outbox in the session's transaction; flush, never commit."""
    row = OutboxEvent(event_id=event.id, type=event.type, payload=to_envelope(event))
    session.add(row)
    session.flush()
    pending: list[str] = session.info.setdefault("outbox_pending", [])
    pending.append(event.id)
    return row


def emit(session: Session, type_: str, data: dict[str, Any], actor: str | None) -> OutboxEvent:
    """Build and record an event in one call."""
    return record(session, Event(type=type_, data=data, actor=actor))
