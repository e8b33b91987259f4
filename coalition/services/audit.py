"""Writing the audit log."""

from __future__ import annotations

from typing import Any

from coalition.actors import Actor
from coalition.models.audit import AuditEntry
from coalition.sessions import Session


def audit(
    session: Session,
    actor: Actor | None,
    action: str,
    target: Any,
    changes: dict[str, Any] | None = None,
) -> AuditEntry:
    """Record who did what to which record; flush, never commit."""
    entry = AuditEntry(
        actor_id=getattr(actor, "id", None),
        actor_label=getattr(actor, "email", None) or "system",
        action=action,
        target_type=type(target).__tablename__,
        target_id=str(target.id),
        changes=_jsonable(changes or {}),
    )
    session.add(entry)
    session.flush()
    return entry


def _jsonable(changes: dict[str, Any]) -> dict[str, Any]:
    """Make enum and date values JSON-safe."""
    return {
        k: v if isinstance(v, (int, float, bool, type(None), list, dict)) else str(v)
        for k, v in changes.items()
    }


def diff(obj: Any, values: dict[str, Any]) -> dict[str, list[Any]]:
    """Apply values to obj and return {field: [old, new]} for what changed."""
    changed: dict[str, list[Any]] = {}
    for key, new in values.items():
        old = getattr(obj, key)
        if old != new:
            changed[key] = [_plain(old), _plain(new)]
            setattr(obj, key, new)
    return changed


def _plain(value: Any) -> Any:
    """A JSON-safe form of a value for the audit log."""
    return value if isinstance(value, (int, float, bool, str, type(None))) else str(value)
