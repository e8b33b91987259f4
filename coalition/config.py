"""Configuration: the only module that reads the environment."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

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
        "BROKER_QUORUM_QUEUES": _env_bool("BROKER_QUORUM_QUEUES", False),
        "SMTP_URL": os.environ.get("SMTP_URL", ""),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "Coalition <no-reply@coalition.local>"),
        "BASE_URL": base_url,
        "SESSION_COOKIE_SECURE": base_url.startswith("https://"),
        "REMEMBER_COOKIE_SECURE": base_url.startswith("https://"),
        # failed sign-ins per account, and per source address (an office shares one address)
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "5 per minute"),
        "LOGIN_ADDRESS_RATE_LIMIT": os.environ.get("LOGIN_ADDRESS_RATE_LIMIT", "30 per minute"),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "INVITATION_MAX_AGE": _env_int("INVITATION_MAX_AGE", 7 * 24 * 3600),
        "RESET_MAX_AGE": _env_int("RESET_MAX_AGE", 3600),
        "RESOLVE_INTERVAL": _env_int("RESOLVE_INTERVAL", 300),
        "RESOLVE_MARGIN": float(os.environ.get("RESOLVE_MARGIN", "0.002")),
        "MATCH_HOLD_HOURS": _env_int("MATCH_HOLD_HOURS", 72),
        **pool_config(),
        **notify_config(),
        **digests_config(),
        **events_config(),
    }


def _env_float(name: str, default: float) -> float:
    """Read a number of seconds (or any float) from the environment."""
    value = os.environ.get(name)
    return float(value) if value else default


def events_config() -> dict[str, Any]:
    """Broker names, relay, retries, periodic jobs and metrics (see the README's events section)."""
    return {
        "BROKER_NAMESPACE": os.environ.get("BROKER_NAMESPACE", "coalition"),
        "BROKER_POLLING_INTERVAL": _env_float("BROKER_POLLING_INTERVAL", 0.05),
        "BROKER_PREFETCH": _env_int("BROKER_PREFETCH", 64),
        "BROKER_BATCH": _env_int("BROKER_BATCH", 50),
        "BROKER_LINGER": _env_float("BROKER_LINGER", 0.005),
        "BROKER_PUBLISH_TIMEOUT": _env_float("BROKER_PUBLISH_TIMEOUT", 5.0),
        "EVENTS_NUDGE": _env_bool("EVENTS_NUDGE", True),
        "EVENTS_NUDGE_TIMEOUT": _env_float("EVENTS_NUDGE_TIMEOUT", 1.0),
        "EVENTS_NUDGE_PAUSE": _env_float("EVENTS_NUDGE_PAUSE", 5.0),
        "EVENTS_RELAY_BATCH": _env_int("EVENTS_RELAY_BATCH", 200),
        "EVENTS_RELAY_INTERVAL": _env_float("EVENTS_RELAY_INTERVAL", 0.5),
        "EVENTS_RELAY_GRACE": _env_float("EVENTS_RELAY_GRACE", 2.0),
        "EVENTS_CLAIM_SECONDS": _env_float("EVENTS_CLAIM_SECONDS", 30.0),
        "EVENTS_MAX_ATTEMPTS": _env_int("EVENTS_MAX_ATTEMPTS", 5),
        "EVENTS_RETRY_BASE": _env_float("EVENTS_RETRY_BASE", 1.0),
        "EVENTS_RETRY_MAX": _env_float("EVENTS_RETRY_MAX", 300.0),
        "EVENTS_SWEEP_INTERVAL": _env_float("EVENTS_SWEEP_INTERVAL", 60.0),
        "EVENTS_SWEEP_AGE": _env_float("EVENTS_SWEEP_AGE", 300.0),
        "EVENTS_SWEEP_HORIZON": _env_float("EVENTS_SWEEP_HORIZON", 7 * 24 * 3600.0),
        "EVENTS_SWEEP_LIMIT": _env_int("EVENTS_SWEEP_LIMIT", 1000),
        "RECONCILE_INTERVAL": _env_float("RECONCILE_INTERVAL", 300.0),
        "RECONCILE_AGE": _env_float("RECONCILE_AGE", 600.0),
        "EXPIRY_INTERVAL": _env_float("EXPIRY_INTERVAL", 3600.0),
        "METRICS_TOKEN": os.environ.get("METRICS_TOKEN", ""),
        "WORKER_METRICS_PORT": _env_int("WORKER_METRICS_PORT", 0),
    }


STATIC_DEFAULTS: dict[str, Any] = {
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "PERMANENT_SESSION_LIFETIME": 12 * 3600,
    "WTF_CSRF_TIME_LIMIT": None,
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


def pool_config() -> dict[str, Any]:
    """Database connections per process: size the pool to the threads that use it (gunicorn
    --threads, plus the relay's and the worker's); past the timeout a request gets a 503."""
    return {
        "DATABASE_POOL_SIZE": _env_int("DATABASE_POOL_SIZE", 10),
        "DATABASE_MAX_OVERFLOW": _env_int("DATABASE_MAX_OVERFLOW", 10),
        "DATABASE_POOL_TIMEOUT": _env_float("DATABASE_POOL_TIMEOUT", 10.0),
    }


def notify_config() -> dict[str, Any]:
    """Match holds; sending notification emails and webhooks: batch, retries, timeouts."""
    return {
        "MATCH_HOLD_INTERVAL": _env_float("MATCH_HOLD_INTERVAL", 300.0),
        "NOTIFY_INTERVAL": _env_float("NOTIFY_INTERVAL", 5.0),
        "NOTIFY_BATCH": _env_int("NOTIFY_BATCH", 100),
        "NOTIFY_MAX_ATTEMPTS": _env_int("NOTIFY_MAX_ATTEMPTS", 6),
        "NOTIFY_RETRY_BASE": _env_float("NOTIFY_RETRY_BASE", 30.0),
        "NOTIFY_RETRY_MAX": _env_float("NOTIFY_RETRY_MAX", 3600.0),
        "NOTIFY_CLAIM_SECONDS": _env_float("NOTIFY_CLAIM_SECONDS", 300.0),
        "WEBHOOK_TIMEOUT": _env_float("WEBHOOK_TIMEOUT", 5.0),
        # webhooks to loopback/private/link-local addresses (off: SSRF; tests turn it on)
        "WEBHOOK_ALLOW_PRIVATE": _env_bool("WEBHOOK_ALLOW_PRIVATE", False),
    }


def digests_config() -> dict[str, Any]:
    """Sending digests: schedule, batches, leases, retries and timeouts."""
    return {
        "DIGEST_INTERVAL": _env_float("DIGEST_INTERVAL", 60.0),
        # claimed together and sent over one SMTP connection
        "DIGEST_BATCH_SIZE": _env_int("DIGEST_BATCH_SIZE", 200),
        # a crashed worker's claim is retried after this many seconds
        "DIGEST_LEASE_SECONDS": _env_float("DIGEST_LEASE_SECONDS", 600.0),
        "DIGEST_MAX_ATTEMPTS": _env_int("DIGEST_MAX_ATTEMPTS", 8),
        # seconds before the first retry; doubles each time up to the maximum
        "DIGEST_RETRY_BASE": _env_float("DIGEST_RETRY_BASE", 60.0),
        "DIGEST_RETRY_MAX": _env_float("DIGEST_RETRY_MAX", 3600.0),
        "DIGEST_CONFIRM_MAX_AGE": _env_int("DIGEST_CONFIRM_MAX_AGE", 7 * 24 * 3600),
        "DIGEST_SMTP_TIMEOUT": _env_float("DIGEST_SMTP_TIMEOUT", 10.0),
    }
