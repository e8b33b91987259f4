"""Log lines: JSON in production, readable text for `make run`, quiet idle jobs."""

from __future__ import annotations

import json
import logging

from coalition.events.sweeper import SweepResult
from worker.logs import JsonFormatter, TextFormatter
from worker.schedule import _did_something

COLOURED = '\x1b[31m\x1b[1mPOST /login HTTP/1.1\x1b[0m" 401 -'


def record(message: str, **extra: object) -> logging.LogRecord:
    entry = logging.makeLogRecord({"name": "werkzeug", "levelname": "INFO", "msg": message})
    entry.__dict__.update(extra)
    return entry


def test_text_lines_are_readable_without_colour_codes():
    line = TextFormatter().format(record(COLOURED, job="notify"))
    assert "\x1b" not in line and 'INFO  werkzeug POST /login HTTP/1.1" 401 - job=notify' in line


def test_an_email_is_printed_as_it_reads():
    text = TextFormatter().format(record("email:\nTo: a@b.org\nSubject: Hello\n\nBody"))
    assert text.endswith("email:\nTo: a@b.org\nSubject: Hello\n\nBody")


def test_json_lines_carry_the_extra_fields_and_no_colour_codes():
    entry = json.loads(JsonFormatter().format(record(COLOURED, job="notify")))
    assert entry["msg"] == 'POST /login HTTP/1.1" 401 -' and entry["job"] == "notify"


def test_a_job_that_did_nothing_is_not_news():
    assert not _did_something({"sent": 0, "failed": 0})
    assert not _did_something(None)
    assert not _did_something(SweepResult(published=0, republished={}))
    assert _did_something({"sent": 1, "failed": 0})
    assert _did_something(3)
