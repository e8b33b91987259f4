"""The outbox sweeper: nothing waits forever on a lost message.

It publishes rows that stayed unpublished past EVENTS_SWEEP_AGE (no relay running, or one
that died), and re-publishes rows published that long ago which a subscribed group has still
not handled, to that group's queue only. Server-free transports lose a message when a worker
dies holding it; the inbox makes the extra copies harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from coalition.config import settings_of
from coalition.events import broker
from coalition.events.publisher import Publisher, PublishError, stamp_published
from coalition.events.relay import claim_batch, publish_rows
from coalition.events.status import pending_for, retrying_for
from coalition.events.topology import Routes, Topology
from coalition.models.events import OutboxEvent

log = logging.getLogger("coalition.events.sweeper")


@dataclass(frozen=True)
class SweepResult:
    """What one sweep did."""

    published: int
    republished: dict[str, int]


def sweep_outbox(
    session: Session,
    publisher: Publisher,
    routes: Routes,
    config: Mapping[str, Any],
    now: datetime,
) -> SweepResult:
    """Publish stuck rows and re-publish unprocessed ones; commits as it goes."""
    settings = settings_of(config)
    age = timedelta(seconds=settings.events_sweep_age)
    limit = settings.events_sweep_limit
    published = _publish_stuck(session, publisher, now - age, limit, config)
    horizon = now - timedelta(seconds=settings.events_sweep_horizon)
    lost = _unprocessed_by_group(session, routes, now - age, horizon, limit)
    republished = {
        group: _republish(session, publisher, group, rows) for group, rows in lost.items()
    }
    result = SweepResult(published, {g: n for g, n in republished.items() if n})
    if result.published or result.republished:
        log.info("outbox sweep", extra={"published": published, "republished": result.republished})
    return result


def _publish_stuck(
    session: Session, publisher: Publisher, before: datetime, limit: int, config: Mapping[str, Any]
) -> int:
    """Publish rows recorded before `before` and still unpublished."""
    rows = claim_batch(
        session,
        limit=limit,
        older_than=before,
        claim_for=settings_of(config).events_claim_seconds,
    )
    return publish_rows(session, publisher, rows) if rows else 0


def _unprocessed_by_group(
    session: Session, routes: Routes, before: datetime, horizon: datetime, limit: int
) -> dict[str, list[Any]]:
    """Per group, rows published before `before` (and after `horizon`) it has not handled."""
    found: dict[str, list[Any]] = {}
    for group, types in routes.items():
        found[group] = list(
            session.execute(
                sa.select(OutboxEvent.id, OutboxEvent.payload)
                .where(
                    OutboxEvent.published_at <= before,
                    OutboxEvent.created_at >= horizon,
                    pending_for(group, types),
                    ~retrying_for(group),  # the relay re-publishes those on their own schedule
                )
                .order_by(OutboxEvent.id)
                .limit(limit)
            ).all()
        )
    return found


def _republish(session: Session, publisher: Publisher, group: str, rows: list[Any]) -> int:
    """Publish rows to one group's queue; restamp what went out so the next sweep waits."""
    if not rows:
        return 0
    try:
        done = publisher.publish([publisher.to_group(r.payload, group) for r in rows])
    except PublishError as exc:
        done = exc.done
        log.warning("sweep could not re-publish to %s: %s", group, exc)
    stamp_published(session, [r.id for r in rows[:done]])
    session.commit()
    return done


LOSSY_TRANSPORTS = ("filesystem:", "memory:")  # a message is gone once a consumer takes it


def recover_on_start(
    session: Session,
    publisher: Publisher,
    routes: Routes,
    config: Mapping[str, Any],
    started: datetime,
) -> dict[str, int]:
    """When a consumer starts on a transport that deletes a message on delivery, re-publish
    to each of its groups whose queue is empty what was published to it before the start
    and is still not handled: nothing waits in the queue, so a worker killed while holding
    it took it. It is back in seconds instead of after EVENTS_SWEEP_AGE; a copy of what a
    live worker holds is harmless (the inbox dedups). RabbitMQ redelivers unacknowledged
    messages itself, so nothing is done there."""
    if not str(config.get("BROKER_URL", "")).startswith(LOSSY_TRANSPORTS):
        return {}
    settings = settings_of(config)
    horizon = started - timedelta(seconds=settings.events_sweep_horizon)
    empty = {group: types for group, types in routes.items() if _queue_empty(config, routes, group)}
    lost = _unprocessed_by_group(session, empty, started, horizon, settings.events_sweep_limit)
    done = {group: _republish(session, publisher, group, rows) for group, rows in lost.items()}
    done = {group: n for group, n in done.items() if n}
    if done:
        log.info("recovered on start", extra={"republished": done})
    return done


def _queue_empty(config: Mapping[str, Any], routes: Routes, group: str) -> bool:
    """Whether a group's queue holds no ready message (a missing queue is empty)."""
    topology = Topology.from_config(config, routes)
    with broker.connect(config) as conn:
        try:
            declared = topology.group_queue(group)(conn.default_channel).queue_declare(passive=True)
        except Exception:  # noqa: BLE001 - not declared yet: nothing was ever queued there
            return True
        return int(declared.message_count) == 0
