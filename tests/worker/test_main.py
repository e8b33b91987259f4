"""`python -m worker`: its parts, its JSON logs, and the graceful stop on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from tests.worker.support import (
    ROOT,
    START_TIMEOUT,
    effect_counts,
    effects_table,
    queue_depth,
    spawn,
    wait_for,
)
from tests.worker.test_faults import publish_all
from worker.__main__ import parse_args

TABLE = effects_table()


def test_the_command_line():
    assert parse_args([]).part is None
    assert parse_args(["relay"]).part == "relay"
    assert parse_args(["consume", "--groups", "matching"]).groups == "matching"
    with pytest.raises(SystemExit):
        parse_args(["dance"])


def run_module(args, bus, log_path, wait_for_line=None):
    """Run `python -m worker ARGS`; with `wait_for_line`, SIGTERM it once that is logged."""
    env = {
        **os.environ,
        "SECRET_KEY": "main-tests",
        "DATABASE_URL": bus.config["SQLALCHEMY_DATABASE_URI"],
        "BROKER_URL": bus.config["BROKER_URL"],
        "BROKER_FOLDER": bus.config["BROKER_FOLDER"],
        "BROKER_NAMESPACE": bus.config["BROKER_NAMESPACE"],
        "EVENTS_SWEEP_INTERVAL": "3600",
        "RECONCILE_INTERVAL": "3600",
    }
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "worker", *args],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            if wait_for_line:
                wait_for(
                    lambda: wait_for_line in log_path.read_text() or process.poll() is not None,
                    timeout=START_TIMEOUT,
                )
                process.send_signal(signal.SIGTERM)
            process.wait(START_TIMEOUT)
        finally:
            if process.poll() is None:  # a failed test must not leave the worker running
                process.kill()
                process.wait(10)
    return process.returncode, log_path.read_text()


def test_an_unknown_group_is_refused(fs_bus, tmp_path):
    code, output = run_module(["consume", "--groups", "nope"], fs_bus, tmp_path / "log")
    assert code == 2
    assert "unknown handler group" in output


def test_sigterm_stops_every_part_and_logs_are_json_lines(fs_bus, tmp_path):
    code, output = run_module([], fs_bus, tmp_path / "log", wait_for_line='"scheduler started"')
    assert code == 0, output
    entries = [json.loads(line) for line in output.splitlines()]
    messages = [entry["msg"] for entry in entries]
    assert "worker started" in messages
    assert {"relay stopped", "scheduler stopped", "stop requested"} <= set(messages)
    assert messages[-1] == "worker stopped"
    assert {"ts", "level", "logger", "msg"} <= set(entries[0])


def test_sigterm_finishes_the_message_in_hand_then_stops(bus, tmp_path, workers):
    ids = bus.record(3)
    publish_all(bus)
    worker = spawn(workers, bus, tmp_path, "hold", "consume", BROKER_BATCH=1)
    wait_for(lambda: worker.reached("holding"))
    worker.process.send_signal(signal.SIGTERM)
    (worker.markers / "release").touch()
    assert worker.terminate() == 0
    assert list(effect_counts().values()) == [1]
    assert set(effect_counts()) <= set(ids)
    assert queue_depth(bus.config, TABLE, "effects") == 2
