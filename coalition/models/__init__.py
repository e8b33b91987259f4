"""All models, imported so that metadata and Alembic see every table."""

from coalition.models.audit import AuditEntry
from coalition.models.catalog import Category, Kind
from coalition.models.credentials import Credential
from coalition.models.digests import DigestSend, DigestSubscription
from coalition.models.events import (
    DeadLetter,
    HandlerAttempt,
    InboxMessage,
    JobLease,
    OutboxEvent,
)
from coalition.models.impact import (
    ImpactFact,
    ImpactMonth,
    ImpactMonthOrg,
    ImpactMonthRequest,
    ListingTag,
)
from coalition.models.inventory import (
    EntryType,
    StockEntry,
    StockFlag,
    StockForecast,
    StockSetting,
    StockSuggestion,
)
from coalition.models.listings import (
    Direction,
    Listing,
    ListingRevision,
    ListingStatus,
    Urgency,
    Visibility,
)
from coalition.models.matches import Match, MatchSource, MatchState, ResolveRun
from coalition.models.notifications import (
    AutoApprovalRule,
    EmailDelivery,
    Notification,
    NotificationPreference,
    Webhook,
    WebhookDelivery,
)
from coalition.models.organizations import Organization, OrgStatus, OrgType
from coalition.models.users import ApiToken, CoalitionRole, Invitation, OrgRole, User

__all__ = [
    "DigestSend",
    "DigestSubscription",
    "AutoApprovalRule",
    "EmailDelivery",
    "Notification",
    "NotificationPreference",
    "Webhook",
    "WebhookDelivery",
    "Match",
    "MatchSource",
    "MatchState",
    "ApiToken",
    "AuditEntry",
    "Category",
    "Credential",
    "CoalitionRole",
    "Direction",
    "DeadLetter",
    "HandlerAttempt",
    "ImpactFact",
    "ImpactMonth",
    "ImpactMonthOrg",
    "ImpactMonthRequest",
    "EntryType",
    "StockEntry",
    "StockFlag",
    "StockForecast",
    "StockSetting",
    "StockSuggestion",
    "ListingTag",
    "InboxMessage",
    "JobLease",
    "Invitation",
    "Kind",
    "Listing",
    "ListingRevision",
    "ListingStatus",
    "OrgRole",
    "OrgStatus",
    "OrgType",
    "Organization",
    "ResolveRun",
    "OutboxEvent",
    "Urgency",
    "User",
    "Visibility",
]
