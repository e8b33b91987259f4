"""Liveness and readiness probes."""

from coalition.blueprints.health.views import bp

__all__ = ["bp"]
