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


# ---------------------------------------------------------------- the typed settings


def test_settings_defaults_are_the_configuration_defaults(tmp_path, monkeypatch):
    from coalition.config import Settings, settings_from_environment

    for key in settings_from_environment():
        monkeypatch.delenv(key, raising=False)
    config = load_config(tmp_path)
    defaults = Settings()
    assert Settings.from_config(config) == defaults
    for name, value in vars(defaults).items():
        assert config[name.upper()] == value
        assert type(config[name.upper()]) is type(value), name


def test_settings_read_the_environment_typed(tmp_path, monkeypatch):
    from coalition.config import Settings

    monkeypatch.setenv("EVENTS_NUDGE", "off")
    monkeypatch.setenv("EVENTS_RELAY_BATCH", "7")
    monkeypatch.setenv("EVENTS_NUDGE_TIMEOUT", "0.25")
    monkeypatch.setenv("BROKER_NAMESPACE", "elsewhere")
    settings = Settings.from_config(load_config(tmp_path))
    assert settings.events_nudge is False
    assert settings.events_relay_batch == 7
    assert settings.events_nudge_timeout == 0.25
    assert settings.broker_namespace == "elsewhere"
    assert settings.relay_grace == 0.0


def test_a_partial_mapping_keeps_the_defaults_and_coerces_types():
    from coalition.config import Settings, settings_of

    settings = settings_of(
        {"EVENTS_RELAY_BATCH": "3", "EVENTS_SWEEP_AGE": 60, "METRICS_TOKEN": None}
    )
    assert settings.events_relay_batch == 3
    assert settings.events_sweep_age == 60.0 and isinstance(settings.events_sweep_age, float)
    assert settings.metrics_token == ""
    assert settings.events_claim_seconds == Settings().events_claim_seconds


def test_settings_are_frozen():
    import dataclasses

    import pytest

    from coalition.config import Settings

    with pytest.raises(dataclasses.FrozenInstanceError):
        Settings().events_nudge = False  # type: ignore[misc]


def test_create_app_builds_the_settings_once_after_its_overrides(tmp_path, monkeypatch):
    from coalition import create_app
    from coalition.config import current_settings, settings_of

    monkeypatch.setenv("EVENTS_RELAY_BATCH", "11")
    monkeypatch.setenv("NOTIFY_BATCH", "12")
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'settings.db'}",
            "SECRET_KEY": "settings",
            "NOTIFY_BATCH": 5,
        }
    )
    built = settings_of(app.config)
    assert settings_of(app.config) is built  # built once, not per read
    assert (built.events_relay_batch, built.notify_batch) == (11, 5)
    with app.app_context():
        assert current_settings() is built


def test_changing_the_app_config_later_rebuilds_the_settings(app, monkeypatch):
    from coalition.config import current_settings

    before = current_settings()
    monkeypatch.setitem(app.config, "EVENTS_SWEEP_LIMIT", 17)
    assert current_settings().events_sweep_limit == 17
    app.config.update(EVENTS_SWEEP_LIMIT=18)
    assert current_settings().events_sweep_limit == 18
    monkeypatch.undo()
    assert current_settings() == before


def test_a_job_interval_is_its_setting_else_the_config_else_its_default():
    from worker.jobs import JOBS, Job

    sweep = next(job for job in JOBS if job.name == "outbox-sweep")
    assert sweep.interval({}) == 60.0
    assert sweep.interval({"EVENTS_SWEEP_INTERVAL": 5}) == 5.0
    other = Job("other", "OTHER_INTERVAL", lambda ctx: None, 42.0)
    assert other.interval({}) == 42.0
    assert other.interval({"OTHER_INTERVAL": "7"}) == 7.0
