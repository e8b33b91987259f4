"""Prometheus metrics: process-wide timings and counters, and database-wide gauges."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

PUBLISH_SECONDS = Histogram(
    "coalition_event_publish_seconds",
    "Time to hand one event to the broker (confirmed on RabbitMQ).",
    ["path"],
    buckets=BUCKETS,
)
PUBLISHED = Counter("coalition_events_published", "Events handed to the broker.", ["path"])
PUBLISH_FAILURES = Counter(
    "coalition_event_publish_failures", "Publishes that failed (left to the relay).", ["path"]
)
HANDLE_SECONDS = Histogram(
    "coalition_event_handle_seconds",
    "Time to handle one message: inbox, handlers, commit and ack.",
    ["group"],
    buckets=BUCKETS,
)
HANDLED = Counter("coalition_events_handled", "Messages settled by a group.", ["group", "outcome"])

GAUGES = {
    "outbox": ("coalition_outbox_events", "Events recorded in the outbox."),
    "unpublished": ("coalition_outbox_unpublished", "Outbox events not yet published."),
    "oldest_unpublished_seconds": (
        "coalition_outbox_oldest_unpublished_seconds",
        "Age of the oldest unpublished outbox event.",
    ),
    "unprocessed": (
        "coalition_events_unprocessed",
        "Published events some subscribed handler group has not handled yet.",
    ),
    "oldest_unprocessed_seconds": (
        "coalition_events_oldest_unprocessed_seconds",
        "Age of the oldest event not yet published or handled by every subscribed group.",
    ),
    "retrying": ("coalition_events_retrying", "Event and group pairs waiting for a retry."),
    "dead": ("coalition_dead_letters", "Dead letters not replayed."),
}


class StatusCollector(Collector):
    """Exposes one `events status` snapshot as gauges."""

    def __init__(self, status: Mapping[str, Any]) -> None:
        self.status = status

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """One gauge per status figure."""
        for key, (name, help_text) in GAUGES.items():
            yield GaugeMetricFamily(name, help_text, value=float(self.status[key]))


def render(status: Mapping[str, Any]) -> bytes:
    """The Prometheus text page: this process's metrics, then the database-wide gauges."""
    registry = CollectorRegistry()
    registry.register(StatusCollector(status))
    return generate_latest(REGISTRY) + generate_latest(registry)
