"""Email digests on the web: settings, preview, recipients, confirmation, unsubscribe, sends."""

from coalition.blueprints.digests.views import bp

__all__ = ["bp"]
