"""The kombu topology, declared in one place.

A durable topic exchange `<ns>.events` carries every event with its type as the routing key.
Each handler group of the routes (`names.ROUTES`) has one durable queue `<ns>.<group>`, bound
to the event types routed to it.
Messages a group gives up on go to the fanout exchange `<ns>.dead` and the queue
`<ns>.dead-letter`. `<ns>` is BROKER_NAMESPACE ("coalition"), so test runs do not collide.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kombu import Exchange, Queue, binding

from coalition.config import settings_of
from coalition.events.broker import is_amqp

# handler group -> the event types bound to its queue (the app's are `names.ROUTES`)
Routes = Mapping[str, Sequence[str]]


def groups_for(routes: Routes, event_type: str) -> list[str]:
    """The groups that subscribe to an event type."""
    return [g for g, types in routes.items() if event_type in types]


@dataclass(frozen=True)
class Topology:
    """Exchange and queue names and declarations for one namespace and its routes."""

    namespace: str
    groups: Mapping[str, tuple[str, ...]]
    amqp: bool = False
    quorum: bool = False

    @classmethod
    def from_config(cls, config: Mapping[str, Any], routes: Routes) -> Topology:
        """Build the topology of `routes` in the namespace the app's configuration names."""
        settings = settings_of(config)
        return cls(
            namespace=settings.broker_namespace,
            groups={group: tuple(types) for group, types in routes.items()},
            amqp=is_amqp(config["BROKER_URL"]),
            quorum=settings.broker_quorum_queues,
        )

    @property
    def exchange(self) -> Exchange:
        """The durable topic exchange every event is published to."""
        return Exchange(f"{self.namespace}.events", type="topic", durable=True)

    @property
    def dead_exchange(self) -> Exchange:
        """The fanout exchange dead letters go to."""
        return Exchange(f"{self.namespace}.dead", type="fanout", durable=True)

    @property
    def dead_queue(self) -> Queue:
        """The queue that keeps dead letters on the broker (the database keeps them too)."""
        return Queue(
            f"{self.namespace}.dead-letter",
            exchange=self.dead_exchange,
            routing_key="#",
            durable=True,
            queue_arguments=self._queue_arguments(dead=True),
        )

    def queue_name(self, group: str) -> str:
        """The queue of one handler group."""
        return f"{self.namespace}.{group}"

    def group_queue(self, group: str) -> Queue:
        """The durable queue of one group, bound to each of its event types."""
        bindings = [binding(self.exchange, routing_key=t) for t in self.groups[group]]
        return Queue(
            self.queue_name(group),
            bindings=bindings,
            durable=True,
            queue_arguments=self._queue_arguments(dead=False),
        )

    def queues(self, groups: Iterable[str] | None = None) -> list[Queue]:
        """The group queues (all of them unless some are named)."""
        return [self.group_queue(g) for g in (groups or self.groups)]

    def _queue_arguments(self, dead: bool) -> dict[str, Any]:
        """RabbitMQ arguments: quorum queues when configured, dead-lettering to `<ns>.dead`."""
        if not self.amqp:
            return {}
        arguments: dict[str, Any] = {}
        if self.quorum:
            arguments["x-queue-type"] = "quorum"
        if not dead:
            arguments["x-dead-letter-exchange"] = self.dead_exchange.name
        return arguments

    def declare(self, channel: Any) -> None:
        """Declare the exchanges, every group queue with its bindings, and the dead letters."""
        self.exchange(channel).declare()
        self.dead_exchange(channel).declare()
        for queue in [*self.queues(), self.dead_queue]:
            queue(channel).declare()

    def delete(self, channel: Any) -> None:
        """Remove the queues and exchanges (tests clean up their namespace with this)."""
        for queue in [*self.queues(), self.dead_queue]:
            queue(channel).delete()
        self.exchange(channel).delete()
        self.dead_exchange(channel).delete()
