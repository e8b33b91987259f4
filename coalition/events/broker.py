"""Connections to the broker: filesystem:// by default, RabbitMQ in production."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from time import monotonic
from typing import Any

from kombu import Connection
from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

from coalition.config import settings_of


class AtomicFilesystemChannel(filesystem.Channel):
    """kombu's filesystem channel, writing each message whole.

    kombu writes a message file in place, and a consumer may pick it up half written
    (and lose it to a JSON error). Here the message is written under a name no consumer
    matches, then renamed into place, which is atomic.
    """

    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:  # type: ignore[override]
        """Put a message onto `queue`, all at once."""
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = f"{final}.part"
        try:
            with open(partial, "wb") as handle:
                handle.write(str_to_bytes(dumps(payload)))
            os.rename(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class AtomicFilesystemTransport(filesystem.Transport):
    """The filesystem transport with whole-message writes."""

    Channel = AtomicFilesystemChannel


def is_amqp(broker_url: str) -> bool:
    """Whether the URL names an AMQP server (RabbitMQ)."""
    return broker_url.split("://", 1)[0] in {"amqp", "amqps", "pyamqp"}


def transport_options(
    broker_url: str, folder: str, polling_interval: float = 0.05
) -> dict[str, Any]:
    """Transport options; the filesystem transport needs its folders to exist."""
    if not broker_url.startswith("filesystem://"):
        return {}
    base = Path(folder)
    for sub in ("messages", "processed", "control"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(base / "messages"),
        "data_folder_out": str(base / "messages"),
        "processed_folder": str(base / "processed"),
        "control_folder": str(base / "control"),
        "store_processed": False,
        "polling_interval": polling_interval,
    }


def connect(config: dict[str, Any] | Any, *, confirm: bool = False, **kwargs: Any) -> Connection:
    """A kombu connection for the app's BROKER_URL (not yet opened).

    `confirm` turns on publisher confirms on RabbitMQ: a publish returns once the broker
    has taken responsibility for the message.
    """
    url = config["BROKER_URL"]
    options = transport_options(
        url, config["BROKER_FOLDER"], settings_of(config).broker_polling_interval
    )
    if confirm and is_amqp(url):
        options["confirm_publish"] = True
    kwargs.setdefault("connect_timeout", 5)
    if url.startswith("filesystem://"):
        kwargs.setdefault("transport", AtomicFilesystemTransport)
    return Connection(url, transport_options=options, **kwargs)


def ping(config: dict[str, Any] | Any) -> None:
    """Open and close a broker connection; raise when the broker is unreachable."""
    with connect(config) as conn:
        conn.ensure_connection(max_retries=1, timeout=3)
