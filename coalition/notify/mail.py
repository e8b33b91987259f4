"""Moved to `coalition.services.mail` (services never import notify); kept as an alias for
code written against the old path."""

from coalition.services.mail import build_message, queue_email

__all__ = ["build_message", "queue_email"]
