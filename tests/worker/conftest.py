"""Fixtures of the event and worker tests: a bus on each broker, or on the filesystem only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.worker.support import Bus, WorkerProcess, bus_for

BROKERS = ["filesystem", pytest.param("rabbitmq", marks=pytest.mark.rabbitmq)]


@pytest.fixture(params=BROKERS)
def bus(request: pytest.FixtureRequest, app: Any, tmp_path: Path) -> Iterator[Bus]:
    """The test app on filesystem:// and, in the server leg, on RabbitMQ."""
    with bus_for(app, request.param, tmp_path) as wired:
        yield wired


@pytest.fixture
def fs_bus(app: Any, tmp_path: Path) -> Iterator[Bus]:
    """The test app on filesystem:// only (for what does not depend on the broker)."""
    with bus_for(app, "filesystem", tmp_path) as wired:
        yield wired


@pytest.fixture
def rabbit_bus(app: Any, tmp_path: Path) -> Iterator[Bus]:
    """The test app on RabbitMQ only."""
    with bus_for(app, "rabbitmq", tmp_path) as wired:
        yield wired


@pytest.fixture
def workers() -> Iterator[list[WorkerProcess]]:
    """Worker processes started by the test; killed if still running at the end."""
    started: list[WorkerProcess] = []
    yield started
    for worker in started:
        if worker.process.poll() is None:
            worker.kill()
        worker.log.close()
