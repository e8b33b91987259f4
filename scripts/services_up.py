"""Exit 0 when the PostgreSQL and RabbitMQ URLs given on the command line both answer."""

from __future__ import annotations

import sys

import sqlalchemy as sa
from kombu import Connection


def database_up(url: str) -> bool:
    """Whether a connection to the database succeeds."""
    engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return True
    except sa.exc.OperationalError as exc:
        print(f"database {url}: {exc.orig}", file=sys.stderr)
        return False
    finally:
        engine.dispose()


def broker_up(url: str) -> bool:
    """Whether a connection to the broker succeeds."""
    try:
        with Connection(url, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1, timeout=3)
        return True
    except Exception as exc:  # noqa: BLE001 - any failure means unreachable
        print(f"broker {url}: {exc}", file=sys.stderr)
        return False


def main(argv: list[str]) -> int:
    """Check both services."""
    database, broker = argv
    return 0 if database_up(database) and broker_up(broker) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
