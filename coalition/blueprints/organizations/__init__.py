"""Organizations: my organization's people, invitations, settings and API tokens on the web,
and `/api/v1/organizations` (the active member organizations) over JSON."""

from coalition.blueprints.organizations.api import blp
from coalition.blueprints.organizations.tokens import bp as tokens_bp
from coalition.blueprints.organizations.views import bp

__all__ = ["blp", "bp", "tokens_bp"]
