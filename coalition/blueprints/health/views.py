"""`/healthz` answers while the process runs; `/readyz` checks the database and broker."""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify

from coalition.events import broker
from coalition.extensions import db, limiter

bp = Blueprint("health", __name__)

log = logging.getLogger("coalition.health")


@bp.get("/healthz")
@limiter.exempt
def healthz() -> Any:
    """Liveness."""
    return jsonify(status="ok")


@bp.get("/readyz")
@limiter.exempt
def readyz() -> Any:
    """Readiness: the database and the broker both answer."""
    checks = {"database": _check(_ping_database), "broker": _check(_ping_broker)}
    ready = all(value == "ok" for value in checks.values())
    return jsonify(status="ok" if ready else "unavailable", checks=checks), 200 if ready else 503


def _check(probe: Any) -> str:
    """Run one probe and describe the outcome."""
    try:
        probe()
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        log.warning("readiness check failed: %s", exc)
        return f"error: {type(exc).__name__}"
    return "ok"


def _ping_database() -> None:
    """A trivial query."""
    db.session.execute(sa.text("SELECT 1"))
    db.session.rollback()


def _ping_broker() -> None:
    """Open a broker connection."""
    broker.ping(current_app.config)
