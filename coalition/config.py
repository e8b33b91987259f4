"""Configuration: the only module that reads the environment."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from flask import Config as FlaskConfig
from flask import Flask, current_app

DEFAULT_BROKER_FOLDER = "queue"


def _secret_key(instance_path: Path) -> str:
    """Return SECRET_KEY from the environment, or one generated once into instance/."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = instance_path / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _sqlite_url(instance_path: Path) -> str:
    """Return the embedded default database URL."""
    return f"sqlite:///{instance_path / 'coalition.db'}"


def _env_bool(name: str, default: bool) -> bool:
    """Read a boolean flag from the environment."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    """Read an integer from the environment."""
    value = os.environ.get(name)
    return int(value) if value else default


def log_format() -> str:
    """LOG_FORMAT: `json` (one object a line, the default) or `text` (what `make run` uses)."""
    value = os.environ.get("LOG_FORMAT", "json").strip().lower()
    return value if value in {"json", "text"} else "json"


def load_config(instance_path: Path) -> dict[str, Any]:
    """Build the configuration mapping from the environment and instance folder."""
    instance_path.mkdir(parents=True, exist_ok=True)
    base_url = os.environ.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    return {
        "SECRET_KEY": _secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL") or _sqlite_url(instance_path),
        "BROKER_URL": os.environ.get("BROKER_URL") or "filesystem://",
        "BROKER_FOLDER": os.environ.get("BROKER_FOLDER")
        or str(instance_path / DEFAULT_BROKER_FOLDER),
        "BASE_URL": base_url,
        "SESSION_COOKIE_SECURE": base_url.startswith("https://"),
        "REMEMBER_COOKIE_SECURE": base_url.startswith("https://"),
        **settings_from_environment(),
    }


def _env_float(name: str, default: float) -> float:
    """Read a number of seconds (or any float) from the environment."""
    value = os.environ.get(name)
    return float(value) if value else default


def _env_str(name: str, default: str) -> str:
    """Read a string from the environment (set but empty stays empty)."""
    return os.environ.get(name, default)


DAY = 24 * 3600


@dataclass(frozen=True)
class Settings:
    """The typed settings: every tunable with its one default, read once per configuration.

    Each field is the Flask config key in lower case (`events_nudge_timeout` is
    `EVENTS_NUDGE_TIMEOUT`); the environment sets the key (`load_config`), `create_app`'s
    overrides and tests may replace it in `app.config`, and code reads the typed value with
    `current_settings()` or `settings_of(config)`.
    """

    # accounts and sign-in: failed sign-ins per account, and per source address
    # (an office shares one address); signed-link lifetimes in seconds
    login_rate_limit: str = "5 per minute"
    login_address_rate_limit: str = "30 per minute"
    ratelimit_storage_uri: str = "memory://"
    invitation_max_age: int = 7 * DAY
    reset_max_age: int = 3600

    # matching: the resolve job, and how long a proposal or approval holds its stock
    resolve_interval: int = 300
    resolve_margin: float = 0.002
    match_hold_hours: int = 72

    # database connections per process: size the pool to the threads that use it (gunicorn
    # --threads, plus the relay's and the worker's); past the timeout a request gets a 503
    database_pool_size: int = 10
    database_max_overflow: int = 10
    database_pool_timeout: float = 10.0

    # mail, match holds; notification emails and webhooks: batch, retries, timeouts
    smtp_url: str = ""
    mail_from: str = "Coalition <no-reply@coalition.local>"
    match_hold_interval: float = 300.0
    notify_interval: float = 5.0
    notify_batch: int = 100
    notify_max_attempts: int = 6
    notify_retry_base: float = 30.0
    notify_retry_max: float = 3600.0
    notify_claim_seconds: float = 300.0
    # an email the SMTP server could not take (down, 4xx) is retried, backing off up to
    # notify_retry_max, for this long after it was queued; then coordinators are alerted
    email_retry_window: float = 86400.0
    webhook_timeout: float = 5.0
    # proposal emails: due this long after the proposal (none if it is gone by then), folded
    # per person, at most one per person per interval (in-app notifications are immediate)
    proposal_email_delay: float = 600.0
    proposal_email_interval: float = 3600.0
    # webhooks to loopback/private/link-local addresses (off: SSRF; tests turn it on)
    webhook_allow_private: bool = False

    # digests: schedule, batches, leases, retries and timeouts
    digest_interval: float = 60.0
    # claimed together and sent over one SMTP connection
    digest_batch_size: int = 200
    # a crashed worker's claim is retried after this many seconds
    digest_lease_seconds: float = 600.0
    digest_max_attempts: int = 8
    # seconds before the first retry; doubles each time up to the maximum
    digest_retry_base: float = 60.0
    digest_retry_max: float = 3600.0
    digest_confirm_max_age: int = 7 * DAY
    digest_smtp_timeout: float = 10.0

    # events: broker names, relay, retries, periodic jobs and metrics (README, events)
    broker_namespace: str = "coalition"
    broker_quorum_queues: bool = False
    broker_polling_interval: float = 0.05
    broker_prefetch: int = 64
    broker_batch: int = 50
    broker_linger: float = 0.005
    broker_publish_timeout: float = 5.0
    events_nudge: bool = True
    events_nudge_timeout: float = 1.0
    events_nudge_pause: float = 5.0
    events_relay_batch: int = 200
    events_relay_interval: float = 0.5
    events_relay_grace: float = 2.0
    events_claim_seconds: float = 30.0
    events_max_attempts: int = 5
    events_retry_base: float = 1.0
    events_retry_max: float = 300.0
    events_sweep_interval: float = 60.0
    events_sweep_age: float = 300.0
    events_sweep_horizon: float = 7 * DAY * 1.0
    events_sweep_limit: int = 1000
    reconcile_interval: float = 300.0
    reconcile_age: float = 600.0
    expiry_interval: float = 3600.0
    forecast_interval: float = 3600.0
    metrics_token: str = ""
    worker_metrics_port: int = 0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        """The settings a config mapping says; a missing (or None) key keeps its default."""
        values: dict[str, Any] = {}
        for name, kind in _FIELD_TYPES.items():
            value = config.get(name.upper())
            if value is not None:
                values[name] = _COERCE[kind](value)
        return cls(**values)

    @property
    def relay_grace(self) -> float:
        """How old a row must be before the relay takes it: the nudge gets the first chance."""
        return self.events_relay_grace if self.events_nudge else 0.0


def _as_bool(value: Any) -> bool:
    """A flag from the config: booleans and numbers as Python reads them, strings as words."""
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


_COERCE: dict[str, Callable[[Any], Any]] = {
    "bool": _as_bool,
    "int": int,
    "float": float,
    "str": str,
}
_FIELD_TYPES: dict[str, str] = {f.name: str(f.type) for f in fields(Settings)}
_READ_ENV: dict[str, Callable[[str, Any], Any]] = {
    "bool": _env_bool, "int": _env_int, "float": _env_float, "str": _env_str,
}  # fmt: skip


def settings_from_environment() -> dict[str, Any]:
    """Every setting's config key, from the environment or its default."""
    defaults = Settings()
    return {
        name.upper(): _READ_ENV[kind](name.upper(), getattr(defaults, name))
        for name, kind in _FIELD_TYPES.items()
    }


class SettingsConfig(FlaskConfig):
    """Flask's config that keeps the `Settings` built from it until one of its keys changes.

    `create_app` builds the settings once, after its overrides; a test that changes a key
    later (`app.config[...] = ...`, `monkeypatch.setitem`) gets them rebuilt on next read.
    """

    _settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        """The typed settings of this configuration."""
        built = self._settings
        if built is None:
            built = self._settings = Settings.from_config(self)
        return built

    def _changed(self) -> None:
        self._settings = None

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        self._changed()

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        self._changed()

    def update(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        super().update(*args, **kwargs)
        self._changed()

    def setdefault(self, key: str, default: Any = None) -> Any:
        try:
            return super().setdefault(key, default)
        finally:
            self._changed()

    def pop(self, key: str, *default: Any) -> Any:  # type: ignore[override]
        try:
            return super().pop(key, *default)
        finally:
            self._changed()

    def popitem(self) -> tuple[str, Any]:
        try:
            return super().popitem()
        finally:
            self._changed()

    def clear(self) -> None:
        super().clear()
        self._changed()


class CoalitionFlask(Flask):
    """The Flask application class whose config carries the typed settings."""

    config_class = SettingsConfig


def settings_of(config: Mapping[str, Any]) -> Settings:
    """The settings of an app's config (built once), or of any other mapping (built now)."""
    if isinstance(config, SettingsConfig):
        return config.settings
    return Settings.from_config(config)


def current_settings() -> Settings:
    """The settings of the current app."""
    return settings_of(current_app.config)


STATIC_DEFAULTS: dict[str, Any] = {
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "PERMANENT_SESSION_LIFETIME": 12 * 3600,
    "WTF_CSRF_TIME_LIMIT": None,
    # form errors stay in WTForms' English and are put in plain words (and Spanish) when shown
    "WTF_I18N_ENABLED": False,
    "ARGON2_TIME_COST": 3,
    "ARGON2_MEMORY_COST": 65536,
    "API_TITLE": "Coalition API",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.1.0",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "docs",
    # Swagger UI's files come from the swagger-ui-bundle-v2 package (coalition.blueprints.main)
    "OPENAPI_SWAGGER_UI_URL": "/api/v1/docs/assets/",
    "API_PAGE_SIZE": 50,
}
