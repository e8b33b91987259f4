"""The start page."""

from coalition.blueprints.main.views import bp

__all__ = ["bp"]
