"""Database engine hooks, and the dialect-aware INSERT … ON CONFLICT every upsert uses."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine, make_url

from coalition.config import settings_of
from coalition.sessions import Session


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """WAL, a busy timeout and foreign keys for SQLite connections."""
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def dialect_insert(session: Session) -> Callable[[Any], Any]:
    """The INSERT of the session's database, which knows ON CONFLICT (SQLite, PostgreSQL)."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert
    if name == "sqlite":
        return sqlite.insert
    raise NotImplementedError(f"ON CONFLICT is implemented for SQLite and PostgreSQL, not {name}")


def insert_or_ignore(
    session: Session,
    entity: Any,
    values: Mapping[str, Any] | None = None,
    *,
    index_elements: Sequence[Any] | None = None,
) -> Any:
    """INSERT … ON CONFLICT DO NOTHING (values now, or as the parameters of execute)."""
    statement = dialect_insert(session)(entity)
    if values is not None:
        statement = statement.values(**values)
    return statement.on_conflict_do_nothing(index_elements=index_elements)


def upsert(
    session: Session,
    entity: Any,
    values: Mapping[str, Any],
    *,
    index_elements: Sequence[Any],
    set_: Mapping[Any, Any],
) -> Any:
    """INSERT … ON CONFLICT (index_elements) DO UPDATE SET `set_`."""
    statement = dialect_insert(session)(entity).values(**values)
    return statement.on_conflict_do_update(index_elements=index_elements, set_=dict(set_))


def engine_options(config: Mapping[str, Any]) -> dict[str, Any]:
    """SQLAlchemy engine options: the configured ones plus the pool's size and timeout
    (an in-memory SQLite database keeps its one-connection pool)."""
    options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    url = make_url(config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        return options
    settings = settings_of(config)
    options.setdefault("pool_size", settings.database_pool_size)
    options.setdefault("max_overflow", settings.database_max_overflow)
    options.setdefault("pool_timeout", settings.database_pool_timeout)
    return options
