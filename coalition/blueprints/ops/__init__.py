"""Operations: `/metrics` for Prometheus and the coordinators' event backbone page."""

from coalition.blueprints.ops.views import bp

__all__ = ["bp"]
