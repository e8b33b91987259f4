"""The world the generated authorization matrix runs in: two organizations (ours and another),
a third that only matches with the other, and one object of every kind a route can name."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from coalition.extensions import db
from coalition.models.base import utcnow
from coalition.models.catalog import Category
from coalition.models.credentials import Credential
from coalition.models.digests import DigestSend, DigestSubscription
from coalition.models.events import DeadLetter
from coalition.models.inventory import StockSuggestion, SuggestionState
from coalition.models.listings import Listing
from coalition.models.matches import Match
from coalition.models.notifications import (
    AutoApprovalRule,
    DeliveryState,
    Notification,
    Webhook,
    WebhookDelivery,
)
from coalition.models.organizations import Organization, OrgStatus
from coalition.models.users import Invitation, OrgRole, User
from coalition.security import sign
from coalition.services import accounts
from coalition.services.digests import CONFIRM_PURPOSE, unsubscribe_token
from tests.factories import (
    CoordinatorFactory,
    ListingFactory,
    OrgAdminFactory,
    OrganizationFactory,
    RequestFactory,
    UserFactory,
    category,
)
from tests.matches_support import propose

STATIC_FILES = {"impact.static": "impact.css", "main.swagger_ui_asset": "swagger-ui.css"}
ROLES = ("anonymous", "member", "org_admin", "org_token", "coordinator", "coordinator_token")
SCOPES = ("own", "other")


@dataclass
class Side:
    """One organization with its people, tokens and records."""

    org: Organization
    admin: User
    member: User
    victim: User
    victim_token_id: int
    invitation: Invitation
    offer: Listing
    request: Listing
    subscription: DigestSubscription
    send: DigestSend
    delivery_id: int = 0  # a failed delivery of its webhook
    suggestion_id: int = 0  # an active forecast suggestion (its request)
    credential_id: int = 0  # an unverified credential
    notifications: dict[int, int] = field(default_factory=dict)  # user id -> notification id


@dataclass
class World:
    """Everything the matrix names, and the bearer tokens of the two token roles."""

    own: Side
    other: Side
    coordinator: User
    org_token: str
    coordinator_token: str
    own_match: Match
    other_match: Match
    category: Category
    rule: AutoApprovalRule
    letter: DeadLetter

    def side(self, scope: str) -> Side:
        """Our organization or the other one."""
        return self.own if scope == "own" else self.other


def _side(name: str) -> Side:
    """An organization with an admin, a member, a member to act on, and its records."""
    org = OrganizationFactory(name=f"{name} Collective", slug=f"{name.lower()}-collective")
    admin = OrgAdminFactory(organization=org)
    member = UserFactory(organization=org)
    victim = UserFactory(organization=org)
    victim_token, _ = accounts.issue_api_token(db.session, admin, org=org, label="victim")
    invitation = Invitation(email=f"new@{org.slug}.example.org", organization=org)
    invitation.org_role = OrgRole.MEMBER
    offer = ListingFactory(organization=org)
    request = RequestFactory(organization=org, category=category("naloxone-nasal-4mg"))
    sub = DigestSubscription(email=f"board@{org.slug}.example.org", organization=org)
    send = DigestSend(
        subscription=sub,
        period_key="2026-11-26",
        period_start=utcnow() - timedelta(days=1),
        period_end=utcnow(),
        recipient=sub.email or "",
    )
    db.session.add_all([invitation, sub, send])
    db.session.flush()
    hook = Webhook(organization=org, url="https://hooks.example.org/h", secret="s" * 32)
    failed = WebhookDelivery(
        webhook=hook, event_id=f"{org.slug}-event", event_type="match.proposed", payload={},
        state=DeliveryState.FAILED,
    )  # fmt: skip
    db.session.add_all([hook, failed])
    db.session.flush()
    side = Side(org, admin, member, victim, victim_token.id, invitation, offer, request, sub, send)
    side.delivery_id = failed.id
    side.suggestion_id, side.credential_id = _stock_records(org, request)
    for person in (admin, member):
        note = Notification(user_id=person.id, event_id="e", event_type="match.proposed", title="t")
        db.session.add(note)
        db.session.flush()
        side.notifications[person.id] = note.id
    return side


def _stock_records(org: Organization, request: Listing) -> tuple[int, int]:
    """An active forecast suggestion for the request and an unverified credential."""
    suggestion = StockSuggestion(
        organization_id=org.id, category_id=request.category_id, direction="request",
        listing_id=request.id, state=SuggestionState.ACTIVE,
    )  # fmt: skip
    credential = Credential(
        organization_id=org.id, kind="standing_order", document_ref="SO-1",
        expires_on=(utcnow() + timedelta(days=365)).date(),
    )  # fmt: skip
    db.session.add_all([suggestion, credential])
    db.session.flush()
    return suggestion.id, credential.id


def build_world() -> World:
    """Create and commit the world."""
    own, other = _side("Ours"), _side("Theirs")
    third = OrganizationFactory(name="Third Collective", slug="third-collective")
    third_request = RequestFactory(organization=third)
    coordinator = CoordinatorFactory()
    _, org_token = accounts.issue_api_token(db.session, own.admin, org=own.org)
    _, coordinator_token = accounts.issue_api_token(db.session, coordinator, user=coordinator)
    own_match = propose(own.offer, third_request, 10)
    other_match = propose(other.offer, third_request, 10)
    cat = category("naloxone-nasal-4mg")
    rule = AutoApprovalRule(kind=cat.kind, category_id=cat.id, max_quantity=5)
    letter = DeadLetter(event_id="e" * 36, handler_group="g", event_type="offer.posted", payload={})
    db.session.add_all([rule, letter])
    db.session.commit()
    return World(
        own, other, coordinator, org_token, coordinator_token, own_match, other_match, cat,
        rule, letter,
    )  # fmt: skip


def principal_user(world: World, role: str) -> User | None:
    """The person a role acts as (None for anonymous and the organization token)."""
    return {
        "member": world.own.member,
        "org_admin": world.own.admin,
        "coordinator": world.coordinator,
        "coordinator_token": world.coordinator,
    }.get(role)


def url_values(world: World, endpoint: str, role: str, scope: str) -> dict[str, Any]:
    """A value for every variable a route may have, naming an object of the scope's side."""
    side = world.side(scope)
    person = principal_user(world, role)
    note_owner = person.id if person is not None and person.id in side.notifications else None
    return {
        "org_id": side.org.id,
        "slug": side.org.slug,
        "listing_id": (side.request if endpoint.startswith("requests") else side.offer).id,
        "match_id": (world.own_match if scope == "own" else world.other_match).id,
        "invitation_id": side.invitation.id,
        "user_id": side.victim.id,
        "token_id": side.victim_token_id,
        "sub_id": side.subscription.id,
        "send_id": side.send.id,
        "delivery_id": side.delivery_id,
        "notification_id": side.notifications[note_owner or side.member.id]
        if scope == "own"
        else side.notifications[side.member.id],
        "rule_id": world.rule.id,
        "letter_id": world.letter.id,
        "category_id": world.category.id,
        "token": _token_for(endpoint, side),
        "filename": STATIC_FILES.get(endpoint, "app.css"),
        "suggestion_id": side.suggestion_id,
        "credential_id": side.credential_id,
    }


def _token_for(endpoint: str, side: Side) -> str:
    """A valid signed token for the digest links; any string for the others."""
    if endpoint.startswith("digests.unsubscribe"):
        return unsubscribe_token(side.subscription.id)
    if endpoint.startswith("digests.confirm"):
        return sign(CONFIRM_PURPOSE, {"s": side.subscription.id, "e": side.subscription.email})
    return "not-a-real-token"


def suspended(org: Organization) -> bool:
    """Whether a coordinator's action in the matrix suspended the organization."""
    return org.status != OrgStatus.ACTIVE
