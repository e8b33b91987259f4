"""Coordinator pages: member organizations and the audit log."""

from coalition.blueprints.coordinator.views import bp

__all__ = ["bp"]
