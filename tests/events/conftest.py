"""The event tests share the worker tests' bus fixtures."""

from tests.worker.conftest import bus, fs_bus, rabbit_bus, workers  # noqa: F401
