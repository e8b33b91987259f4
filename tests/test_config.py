"""Configuration comes from the environment; the secret key is generated, never hard-coded."""

from pathlib import Path

from coalition.config import load_config


def test_secret_key_is_generated_once_into_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = load_config(tmp_path)["SECRET_KEY"]
    assert len(first) >= 40
    assert load_config(tmp_path)["SECRET_KEY"] == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert load_config(Path(tmp_path / "other"))["SECRET_KEY"] != first


def test_environment_overrides_the_embedded_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "from-env")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://db/coalition")
    monkeypatch.setenv("BROKER_URL", "amqp://rabbit//")
    monkeypatch.setenv("SMTP_URL", "smtp://mail:25")
    monkeypatch.setenv("BASE_URL", "https://coalition.example.org/")
    config = load_config(tmp_path)
    assert config["SECRET_KEY"] == "from-env"
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://db/coalition"
    assert config["BROKER_URL"] == "amqp://rabbit//"
    assert config["SMTP_URL"] == "smtp://mail:25"
    assert config["BASE_URL"] == "https://coalition.example.org"
    assert config["SESSION_COOKIE_SECURE"] is True


def test_embedded_defaults(tmp_path, monkeypatch):
    for name in ("DATABASE_URL", "BROKER_URL", "SMTP_URL", "BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    config = load_config(tmp_path)
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'coalition.db'}"
    assert config["BROKER_URL"] == "filesystem://"
    assert config["SMTP_URL"] == ""
    assert config["BASE_URL"] == "http://127.0.0.1:5000"


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(app):
    import pytest
    import sqlalchemy as sa

    from coalition.extensions import db

    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas; this leg runs on PostgreSQL")
    with db.engine.connect() as conn:
        assert conn.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(sa.text("PRAGMA busy_timeout")).scalar() == 10000
