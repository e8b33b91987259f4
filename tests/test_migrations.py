"""Migrations: upgrade an empty database, match the models exactly, downgrade to base."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from coalition import create_app
from coalition.extensions import db
from tests.conftest import drop_server_database, make_test_config, server_database


def empty_database_url(tmp_path) -> str:
    """A new empty database on the same server as the test leg."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        return f"sqlite:///{tmp_path / 'migrations.db'}"
    return server_database(base, "migrations")


@pytest.fixture
def fresh_app(tmp_path):
    config = make_test_config(tmp_path, empty_database_url(tmp_path))
    application = create_app(config)
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()
    if os.environ.get("TEST_DATABASE_URL"):
        drop_server_database(config["SQLALCHEMY_DATABASE_URI"])


def differences() -> list:
    """What autogenerate would still change."""
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def table_names() -> set[str]:
    return set(sa.inspect(db.engine).get_table_names())


def test_upgrade_matches_the_models_and_downgrades_to_base(fresh_app):
    upgrade()
    assert differences() == []
    assert {"organizations", "users", "outbox", "inbox", "audit_log"} <= table_names()
    downgrade(revision="base")
    assert table_names() <= {"alembic_version"}


def test_reference_data_is_loaded_by_the_migrations(fresh_app):
    from coalition.seeds import REFERENCE_TABLES

    upgrade()
    with db.engine.connect() as conn:
        for table in REFERENCE_TABLES:
            assert conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar() > 0, table
