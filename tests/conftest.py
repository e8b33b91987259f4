"""Shared fixtures: one app per test process on SQLite (or TEST_DATABASE_URL), clean tables
between tests, factories, signed-in clients, and the browser harness."""

from __future__ import annotations

import contextvars
import os
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import has_app_context
from flask.testing import FlaskClient
from sqlalchemy.engine import make_url

from coalition import create_app
from coalition.extensions import db, limiter

CHROMIUM = "/usr/bin/chromium"
IN_CI = os.environ.get("CI", "").lower() == "true"


def worker_id() -> str:
    """The pytest-xdist worker name, or `main`."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _admin_execute(base: str, statement: str) -> None:
    """Run one statement on the server's maintenance connection."""
    admin = sa.create_engine(make_url(base), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(statement))
    admin.dispose()


def server_database(base: str, purpose: str) -> str:
    """A new schema of this test process's own in the PostgreSQL database of `base`.

    The name carries the process id, so that concurrent test runs never share one; a schema
    is used rather than a database because DROP DATABASE waits for a checkpoint.
    """
    schema = f"coalition_{purpose}_{worker_id()}_{os.getpid()}"
    _admin_execute(base, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    _admin_execute(base, f'CREATE SCHEMA "{schema}"')
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


def drop_server_database(url: str) -> None:
    """Drop a schema made by `server_database`."""
    schema = make_url(url).query["options"].split("=", 1)[1]
    _admin_execute(os.environ["TEST_DATABASE_URL"], f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def database_url(tmp: Path) -> str:
    """SQLite in a temporary folder unless TEST_DATABASE_URL names a server."""
    if base := os.environ.get("TEST_DATABASE_URL"):
        return server_database(base, "test")
    return f"sqlite:///{tmp / 'test.db'}"


def make_test_config(tmp: Path, database: str) -> dict[str, Any]:
    """Configuration for a test app on the given database."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": database,
        "BROKER_URL": "filesystem://",
        "BROKER_FOLDER": str(tmp / "queue"),
        "SMTP_URL": "",
        "BASE_URL": "http://coalition.test",
        "SERVER_NAME": None,
        "WTF_CSRF_ENABLED": False,
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 1024,
        "RATELIMIT_STORAGE_URI": "memory://",
        "WEBHOOK_ALLOW_PRIVATE": True,  # the tests' receivers listen on 127.0.0.1
        # proposal emails due at once and unspaced, so the delivery tests can send them;
        # tests/notify/test_proposal_emails.py sets the calm defaults back
        "PROPOSAL_EMAIL_DELAY": 0,
        "PROPOSAL_EMAIL_INTERVAL": 0,
    }


class IsolatedClient(FlaskClient):
    """Run each request in its own app context, as in production, then refresh the test's view.

    The test holds an app context for factories; without this, requests would share its `g`
    (the signed-in user) and its database session.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        response = contextvars.Context().run(super().open, *args, **kwargs)
        if has_app_context():  # not inside a followed redirect
            db.session.expire_all()
        return response


@pytest.fixture(scope="session")
def app_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A temporary folder for this test process."""
    return tmp_path_factory.mktemp("coalition")


@pytest.fixture(scope="session")
def app(app_tmp: Path) -> Iterator[Any]:
    """The application, with every table created once."""
    application = create_app(make_test_config(app_tmp, database_url(app_tmp)))
    application.test_client_class = IsolatedClient
    with application.app_context():
        db.create_all()
        seed_reference_data()
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()
    if os.environ.get("TEST_DATABASE_URL"):
        drop_server_database(application.config["SQLALCHEMY_DATABASE_URI"])


def seed_reference_data() -> None:
    """Rows the migrations load (categories, …) that create_all does not."""
    from coalition.seeds import SEEDS

    for seed in SEEDS:
        seed(db.session)
    db.session.commit()


@pytest.fixture(autouse=True)
def _app_context(request: pytest.FixtureRequest) -> Iterator[None]:
    """Run each test that uses the app inside its context, and clean up after it."""
    if "app" not in request.fixturenames:
        yield
        return
    application = request.getfixturevalue("app")
    with application.app_context():
        yield
        db.session.rollback()
        db.session.remove()
        truncate_all()
        limiter.reset()
        application.config["WTF_CSRF_ENABLED"] = False


def truncate_all() -> None:
    """Delete every row except reference data (DELETE beats TRUNCATE on small tables)."""
    from coalition.seeds import REFERENCE_TABLES

    tables = [t for t in reversed(db.metadata.sorted_tables) if t.name not in REFERENCE_TABLES]
    with db.engine.begin() as conn:
        for table in tables:
            conn.execute(table.delete())


@pytest.fixture
def client(app: Any) -> Any:
    """A test client."""
    return app.test_client()


@pytest.fixture
def csrf_on(app: Any) -> None:
    """Turn CSRF protection on for one test."""
    app.config["WTF_CSRF_ENABLED"] = True


@pytest.fixture
def login(app: Any) -> Any:
    """Return a function that signs a user into a new client without the password form."""

    def _login(user: Any) -> Any:
        signed_in = app.test_client()
        with signed_in.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
        return signed_in

    return _login


def count(model: Any) -> int:
    """Rows in a model's table."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


# ---------------------------------------------------------------- browser harness


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def live_server(app: Any) -> Iterator[str]:
    """Serve the app on a free port in a thread; yield its base URL."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Drive Debian's Chromium; Playwright cannot download its own here."""
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    }


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip browser tests with a reason when Chromium is missing, except in CI."""
    if Path(CHROMIUM).exists() or shutil.which("chromium"):
        return
    if IN_CI:
        raise pytest.UsageError(f"CI=true but {CHROMIUM} is missing: browser tests cannot run")
    skip = pytest.mark.skip(reason=f"{CHROMIUM} not installed (make test installs it as root)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)
