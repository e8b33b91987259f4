"""Logs: one JSON object per line in production, readable lines in development (LOG_FORMAT)."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
ANSI = re.compile(r"\x1b\[[0-9;]*m")  # Werkzeug colours its request lines


def _extra(record: logging.LogRecord) -> dict[str, Any]:
    """The fields a caller passed with `extra=`."""
    return {k: v for k, v in record.__dict__.items() if k not in STANDARD}


class JsonFormatter(logging.Formatter):
    """Format a record as `{"ts", "level", "logger", "msg", ...extra}`."""

    def format(self, record: logging.LogRecord) -> str:
        """One JSON line."""
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": ANSI.sub("", record.getMessage()),
        }
        entry.update(_extra(record))
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    """`13:45:02 INFO  coalition.listings message key=value`, multi-line messages as they are."""

    def format(self, record: logging.LogRecord) -> str:
        """One readable line (or block, for an email)."""
        when = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        extra = " ".join(f"{k}={v}" for k, v in _extra(record).items())
        line = f"{when} {record.levelname:<5} {record.name} {ANSI.sub('', record.getMessage())}"
        line = f"{line} {extra}" if extra else line
        if record.exc_info:
            line = f"{line}\n{self.formatException(record.exc_info)}"
        return line


FORMATTERS = {"json": JsonFormatter, "text": TextFormatter}


def configure(level: int = logging.INFO, fmt: str | None = None) -> None:
    """Send every log record to stderr, as JSON or text (before the app factory runs)."""
    from coalition.config import log_format

    handler = logging.StreamHandler()
    handler.setFormatter(FORMATTERS[fmt or log_format()]())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("kombu").setLevel(logging.WARNING)
    logging.getLogger("kombu.connection").setLevel(logging.ERROR)  # "No hostname" on filesystem://
    logging.getLogger("amqp").setLevel(logging.WARNING)
