"""The versioned JSON envelope every event travels in."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from marshmallow import Schema, fields, validate

from coalition.events.names import ALL_EVENTS

ENVELOPE_VERSION = 1


@dataclass(frozen=True)
class Event:
    """An event about to be recorded or just received."""

    type: str
    data: dict[str, Any]
    actor: str | None = None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    occurred_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    version: int = ENVELOPE_VERSION


class EnvelopeSchema(Schema):
    """`{"id", "type", "version", "occurred_at", "actor", "data"}`."""

    id = fields.UUID(required=True)
    type = fields.String(required=True, validate=validate.OneOf(sorted(ALL_EVENTS)))
    version = fields.Integer(required=True, validate=validate.Equal(ENVELOPE_VERSION))
    occurred_at = fields.AwareDateTime(required=True, default_timezone=UTC)
    actor = fields.String(required=True, allow_none=True)
    data = fields.Dict(keys=fields.String(), required=True)


_schema = EnvelopeSchema()


def to_envelope(event: Event) -> dict[str, Any]:
    """Serialise an event to its JSON-ready envelope."""
    return {
        "id": event.id,
        "type": event.type,
        "version": event.version,
        "occurred_at": event.occurred_at.astimezone(UTC).isoformat(),
        "actor": event.actor,
        "data": event.data,
    }


def from_envelope(body: dict[str, Any]) -> Event:
    """Validate a received envelope and turn it back into an event."""
    loaded = _schema.load(body)
    return Event(
        type=loaded["type"],
        data=loaded["data"],
        actor=loaded["actor"],
        id=str(loaded["id"]),
        occurred_at=loaded["occurred_at"],
        version=loaded["version"],
    )
