"""Helpers shared by the listings tests: a small coalition, listings posted through the
services (so that their events exist), row counts and valid inputs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from coalition.extensions import db
from coalition.models import (
    AuditEntry,
    Category,
    Listing,
    ListingRevision,
    OrgStatus,
    OutboxEvent,
)
from coalition.models.listings import Direction
from coalition.services import listings as service
from coalition.services.accounts import issue_api_token
from coalition.services.listing_input import CREATE_SCHEMAS
from tests.factories import (
    CoordinatorFactory,
    OrgAdminFactory,
    OrganizationFactory,
    UserFactory,
)

NEW_YORK = ZoneInfo("America/New_York")


def future(days: int) -> str:
    """An ISO date `days` from today."""
    return (date.today() + timedelta(days=days)).isoformat()


def window(days: int = 7, start: int = 9, end: int = 17) -> dict[str, str]:
    """A shift in New York time, `days` from today."""
    day = date.today() + timedelta(days=days)
    return {
        "start": datetime(day.year, day.month, day.day, start, tzinfo=NEW_YORK).isoformat(),
        "end": datetime(day.year, day.month, day.day, end, tzinfo=NEW_YORK).isoformat(),
    }


SUPPLY_OFFER = {"category": "naloxone-nasal-4mg", "quantity": 120, "expires_on": future(45)}
SUPPLY_REQUEST = {"category": "naloxone-nasal-4mg", "quantity": 40, "urgency": "high"}
STAFFING_REQUEST = {
    "category": "registered-nurse",
    "quantity": 12,
    "urgency": "high",
    "languages": ["es"],
    "windows": [window()],
}
VALID = {Direction.OFFER: SUPPLY_OFFER, Direction.REQUEST: SUPPLY_REQUEST}


def post(org: Any, direction: str = "offer", actor: Any = None, **raw: Any) -> Listing:
    """Post a listing through the schema and the service, and commit."""
    data = CREATE_SCHEMAS[Direction(direction)]().load({**VALID[Direction(direction)], **raw})
    listing = service.post_listing(db.session, actor, direction, data, org=org)
    db.session.commit()
    return listing


def counts() -> dict[str, int]:
    """Rows of listings, revisions, outbox events and audit entries."""
    models = {
        "listings": Listing,
        "revisions": ListingRevision,
        "outbox": OutboxEvent,
        "audit": AuditEntry,
    }
    return {
        name: db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0
        for name, model in models.items()
    }


def event_types() -> list[str]:
    """The outbox event types, in order."""
    return list(db.session.scalars(sa.select(OutboxEvent.type).order_by(OutboxEvent.id)))


def category(slug: str) -> Category:
    """A seeded category."""
    found = db.session.scalar(sa.select(Category).where(Category.slug == slug))
    assert found is not None, slug
    return found


@dataclass
class World:
    """Two organizations with their people, a coordinator, a suspended organization."""

    owner_org: Any
    other_org: Any
    member: Any
    admin: Any
    other_member: Any
    other_admin: Any
    coordinator: Any
    suspended: Any

    def user(self, role: str) -> Any:
        """The user playing a role (None for anonymous)."""
        return None if role == "anonymous" else getattr(self, role)


def make_world() -> World:
    """Create the people every authorization table uses."""
    owner_org = OrganizationFactory(slug="owner-org", name="Owner Harm Reduction")
    other_org = OrganizationFactory(
        slug="other-org", name="Other Outreach", lat=40.8094, lon=-73.9237
    )
    suspended_org = OrganizationFactory(slug="suspended-org", status=OrgStatus.SUSPENDED)
    return World(
        owner_org=owner_org,
        other_org=other_org,
        member=UserFactory(organization=owner_org),
        admin=OrgAdminFactory(organization=owner_org),
        other_member=UserFactory(organization=other_org),
        other_admin=OrgAdminFactory(organization=other_org),
        coordinator=CoordinatorFactory(),
        suspended=UserFactory(organization=suspended_org),
    )


def token_for(org: Any) -> str:
    """A new API token of the organization."""
    _, token = issue_api_token(db.session, None, org=org, label="test")
    db.session.commit()
    return token


def reserve(listing: Listing, quantity: int) -> None:
    """Reserve stock the way matching does: a conditional update."""
    result = db.session.execute(
        sa.update(Listing)
        .where(Listing.id == listing.id, Listing.available >= quantity)
        .values(reserved=Listing.reserved + quantity)
    )
    assert result.rowcount == 1
    db.session.commit()


def send_csrf(client: Any) -> Any:
    """Make a signed-in test client send its session's CSRF token with every request."""
    import re

    page = client.get("/listings/")
    match = re.search(r'name="csrf-token" content="([^"]+)"', page.get_data(as_text=True))
    if match:
        client.environ_base["HTTP_X_CSRFTOKEN"] = match.group(1)
    return client
