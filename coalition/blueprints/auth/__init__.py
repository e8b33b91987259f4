"""Sign in, sign out, invitations and password resets."""

from coalition.blueprints.auth.views import bp

__all__ = ["bp"]
