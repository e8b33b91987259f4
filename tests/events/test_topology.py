"""The topology: names, bindings, RabbitMQ arguments, and topic routing on both brokers."""

from __future__ import annotations

import warnings

import pytest
from kombu import Producer

from coalition.events import broker
from coalition.events.topology import Topology, groups_for
from tests.worker.support import delete_topology, require_rabbitmq, unique_namespace
from worker.routing import routes_of

TABLE = {
    "matching": {"offer.posted": [print], "request.posted": [print]},
    "notifications": {"match.proposed": [print], "match.approved": [print]},
    "idle": {"offer.posted": []},
}
ROUTES = routes_of(TABLE)


def test_only_groups_with_handlers_get_a_queue():
    assert ROUTES == {
        "matching": ("offer.posted", "request.posted"),
        "notifications": ("match.approved", "match.proposed"),
    }
    assert groups_for(ROUTES, "offer.posted") == ["matching"]
    assert groups_for(ROUTES, "digest.due") == []


def test_names_follow_the_namespace():
    topology = Topology.from_config(
        {"BROKER_URL": "filesystem://", "BROKER_NAMESPACE": "coalition"}, ROUTES
    )
    assert topology.exchange.name == "coalition.events"
    assert topology.exchange.type == "topic" and topology.exchange.durable
    assert topology.dead_exchange.name == "coalition.dead"
    assert topology.dead_queue.name == "coalition.dead-letter"
    queue = topology.group_queue("matching")
    assert queue.name == "coalition.matching" and queue.durable
    assert sorted(b.routing_key for b in queue.bindings) == ["offer.posted", "request.posted"]


@pytest.mark.parametrize(
    ("quorum", "expected"),
    [
        (False, {"x-dead-letter-exchange": "ns.dead"}),
        (True, {"x-dead-letter-exchange": "ns.dead", "x-queue-type": "quorum"}),
    ],
)
def test_rabbitmq_queues_dead_letter_and_can_be_quorum(quorum, expected):
    config = {
        "BROKER_URL": "amqp://x@h//",
        "BROKER_NAMESPACE": "ns",
        "BROKER_QUORUM_QUEUES": quorum,
    }
    topology = Topology.from_config(config, ROUTES)
    assert topology.group_queue("matching").queue_arguments == expected


def test_filesystem_queues_take_no_rabbitmq_arguments():
    config = {"BROKER_URL": "filesystem://", "BROKER_NAMESPACE": "n"}
    topology = Topology.from_config(config, ROUTES)
    assert topology.group_queue("matching").queue_arguments == {}


def route_and_collect(config):
    """Publish one message per type to the topic exchange; return what each queue got."""
    topology = Topology.from_config(config, ROUTES)
    types = ["offer.posted", "request.posted", "match.proposed", "digest.due"]
    with broker.connect(config, confirm=True) as conn:
        channel = conn.channel()
        topology.declare(channel)
        producer = Producer(channel, serializer="json")
        for event_type in types:
            producer.publish(
                {"type": event_type},
                exchange=topology.exchange.name,
                routing_key=event_type,
                delivery_mode=2,
            )
        got = {}
        for group in topology.groups:
            queue = topology.group_queue(group)(channel)
            got[group] = sorted(_drain(queue))
    return got


def _drain(queue):
    while (message := queue.get(no_ack=True)) is not None:
        yield message.payload["type"]


EXPECTED_ROUTES = {
    "matching": ["offer.posted", "request.posted"],
    "notifications": ["match.proposed"],
}


def test_topic_routing_works_on_the_filesystem_transport(tmp_path):
    config = {
        "BROKER_URL": "filesystem://",
        "BROKER_FOLDER": str(tmp_path),
        "BROKER_NAMESPACE": "n",
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an unrouted type (digest.due) must not warn
        assert route_and_collect(config) == EXPECTED_ROUTES


@pytest.mark.rabbitmq
@pytest.mark.parametrize("quorum", [False, True])
def test_topic_routing_works_on_rabbitmq(quorum):
    config = {
        "BROKER_URL": require_rabbitmq(),
        "BROKER_FOLDER": "",
        "BROKER_NAMESPACE": unique_namespace(),
        "BROKER_QUORUM_QUEUES": quorum,
    }
    try:
        assert route_and_collect(config) == EXPECTED_ROUTES
    finally:
        delete_topology(config, TABLE)


def test_filesystem_messages_are_written_whole(tmp_path):
    """A half-written message is invisible until renamed into place (kombu writes in place)."""
    from coalition.events.broker import AtomicFilesystemTransport

    config = {
        "BROKER_URL": "filesystem://",
        "BROKER_FOLDER": str(tmp_path),
        "BROKER_NAMESPACE": "n",
    }
    with broker.connect(config) as conn:
        assert isinstance(conn.transport, AtomicFilesystemTransport)
        queue = Topology.from_config(config, ROUTES).group_queue("matching")(conn.channel())
        queue.declare()
        (tmp_path / "messages" / f"1_x.{queue.name}.msg.part").write_text("")  # being written
        assert queue.get(no_ack=True) is None
        Producer(conn.channel(), serializer="json").publish(
            {"type": "offer.posted"}, exchange="", routing_key=queue.name
        )
        assert queue.get(no_ack=True).payload == {"type": "offer.posted"}
        assert [p.suffix for p in (tmp_path / "messages").iterdir()] == [".part"]
