"""All models, imported so that metadata and Alembic see every table."""

from coalition.models.audit import AuditEntry
from coalition.models.events import InboxMessage, OutboxEvent
from coalition.models.organizations import Organization, OrgStatus, OrgType
from coalition.models.users import ApiToken, CoalitionRole, Invitation, OrgRole, User

__all__ = [
    "ApiToken",
    "AuditEntry",
    "CoalitionRole",
    "InboxMessage",
    "Invitation",
    "OrgRole",
    "OrgStatus",
    "OrgType",
    "Organization",
    "OutboxEvent",
    "User",
]
