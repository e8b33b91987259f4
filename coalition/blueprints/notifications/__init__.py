"""Notifications on the web: the bell, the list, email preferences and webhook settings."""

from coalition.blueprints.notifications.views import bp

__all__ = ["bp"]
