"""Shared by the match lifecycle tests: two organizations, a naloxone offer and request,
and the proposal the matcher makes for them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa

from coalition.events.outbox import emit
from coalition.extensions import db
from coalition.models.events import OutboxEvent
from coalition.models.listings import Listing
from coalition.models.matches import Match, MatchState
from coalition.models.organizations import Organization
from coalition.models.users import User
from coalition.services import stock
from tests.factories import (
    CoordinatorFactory,
    ListingFactory,
    OrgAdminFactory,
    OrganizationFactory,
    RequestFactory,
    UserFactory,
)

TODAY = date(2026, 11, 26)


@dataclass
class Pair:
    """A giving and a receiving organization with their people, listings and proposal."""

    giver: Organization
    receiver: Organization
    giver_member: User
    receiver_member: User
    coordinator: User
    offer: Listing
    request: Listing
    match: Match

    def refresh(self) -> None:
        """Reload what another session may have changed."""
        for row in (self.match, self.offer, self.request):
            db.session.refresh(row)

    def person(self, who: str) -> User:
        """The giver's or receiver's member, the coordinator, or a new outsider."""
        people = {
            "giver": self.giver_member,
            "receiver": self.receiver_member,
            "coordinator": self.coordinator,
        }
        return people[who] if who in people else outsider()

    def counts(self) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
        """(available, reserved, fulfilled) of the offer and of the request."""
        self.refresh()
        return (
            (self.offer.available, self.offer.reserved, self.offer.fulfilled),
            (self.request.available, self.request.reserved, self.request.fulfilled),
        )


def organizations(**kw: Any) -> tuple[Organization, Organization]:
    """A Harlem giver and a Brooklyn receiver, about 15 km apart."""
    giver = OrganizationFactory(
        name="Harlem Harm Reduction",
        slug="harlem-hr",
        borough="Manhattan",
        address="104 E 126th St, New York, NY",
        lat=40.8116,
        lon=-73.9465,
        contact_email="give@harlem-hr.example.org",
        contact_phone="+1 212 555 0111",
        **kw.get("giver", {}),
    )
    receiver = OrganizationFactory(
        name="Bushwick Outreach",
        slug="bushwick-outreach",
        borough="Brooklyn",
        address="1 Myrtle Ave, Brooklyn, NY",
        lat=40.68,
        lon=-73.94,
        contact_email="need@bushwick.example.org",
        contact_phone="+1 718 555 0122",
        **kw.get("receiver", {}),
    )
    return giver, receiver


def make_pair(offered: int = 120, requested: int = 40, **kw: Any) -> Pair:
    """Both organizations, their people, the listings, and the matcher's proposal."""
    giver, receiver = organizations(**kw)
    giver_member = OrgAdminFactory(organization=giver, name="Gia Giver")
    receiver_member = OrgAdminFactory(organization=receiver, name="Rey Receiver")
    coordinator = CoordinatorFactory(name="Cora Ordinator")
    offer = ListingFactory(
        organization=giver, quantity=offered, max_distance_km=50, expires_on=date(2027, 1, 10)
    )
    request = RequestFactory(organization=receiver, quantity=requested, max_distance_km=30)
    match = propose(offer, request, min(offered, requested))
    db.session.commit()
    return Pair(giver, receiver, giver_member, receiver_member, coordinator, offer, request, match)


def propose(offer: Listing, request: Listing, quantity: int, distance_km: float = 14.64) -> Match:
    """Hold stock and record a proposal the way the matcher does (`match.proposed`)."""
    assert stock.reserve(db.session, offer.id, request.id, quantity)
    explanation = {
        "offer": str(offer.id),
        "request": str(request.id),
        "quantity": quantity,
        "kind": "supply",
        "category": offer.category.slug,
        "urgency": request.urgency.value if request.urgency else "normal",
        "distance_km": distance_km,
        "remote": False,
        "days_to_expiry": 45,
        "overlap_hours": None,
        "factors": {"U": 4, "D": 0.7559, "E": 1.5, "value_per_unit": 4.5356},
        "value": round(quantity * 4.5356, 4),
        "alternatives": [
            {"offer": "999", "value_per_unit": 3.1, "distance_km": 22.5, "reason": "lower value"}
        ],
    }
    match = Match(
        offer_id=offer.id,
        request_id=request.id,
        quantity=quantity,
        state=MatchState.PROPOSED,
        value_per_unit=4.5356,
        distance_km=distance_km,
        explanation=explanation,
    )
    db.session.add(match)
    db.session.flush()
    data = {"id": match.id, "offer_id": offer.id, "request_id": request.id, "quantity": quantity}
    emit(db.session, "match.proposed", data, "matching")
    return match


def outsider() -> User:
    """Someone of a third organization."""
    return UserFactory(organization=OrganizationFactory(name="Elsewhere Collective"))


def events_of(type_: str) -> list[dict[str, Any]]:
    """The data of every recorded event of a type, oldest first."""
    rows = db.session.scalars(
        sa.select(OutboxEvent).where(OutboxEvent.type == type_).order_by(OutboxEvent.id)
    )
    return [row.payload["data"] for row in rows]


FORBIDDEN_BEFORE_APPROVAL = (
    "Harlem Harm Reduction",
    "harlem-hr",
    "give@harlem-hr.example.org",
    "+1 212 555 0111",
    "104 E 126th St",
    "Bushwick Outreach",
    "bushwick-outreach",
    "need@bushwick.example.org",
    "+1 718 555 0122",
    "1 Myrtle Ave",
)


def leaks(text: str, own: Organization) -> list[str]:
    """Names and contacts of the other organization found in a text."""
    own_bits = {own.name, own.slug, own.contact_email, own.contact_phone, own.address}
    return [
        bit
        for bit in FORBIDDEN_BEFORE_APPROVAL
        if bit in text and not any(bit in mine for mine in own_bits)
    ]
