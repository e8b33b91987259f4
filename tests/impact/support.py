"""A fixture ledger for the impact tests: organizations in three boroughs, supplies and
staffing, fulfilled matches around the Q3 2026 boundaries, and one cancelled match."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from coalition.extensions import db
from coalition.models.catalog import Category
from coalition.models.listings import Listing
from coalition.models.matches import Match, MatchState
from coalition.models.organizations import Organization
from coalition.services import impact
from tests.factories import ListingFactory, OrganizationFactory, RequestFactory, category

Q3 = (date(2026, 7, 1), date(2026, 9, 30))
COSTS = {"naloxone-nasal-4mg": 4500, "wound-care-kit": 1250, "registered-nurse": 6000}


def at(day: date, hour: int = 12, minute: int = 0) -> datetime:
    """A New York wall-clock time, as UTC."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=impact.TIMEZONE).astimezone(
        UTC
    )


def fulfil(
    offer: Listing,
    request: Listing,
    quantity: int,
    received: datetime,
    handed_off: datetime | None = None,
    state: MatchState = MatchState.FULFILLED,
) -> Match:
    """A match in the given state, received (or closed) at `received`."""
    match = Match(
        offer_id=offer.id,
        request_id=request.id,
        quantity=quantity,
        state=state,
        value_per_unit=1.0,
        handed_off_at=handed_off or received,
        received_at=received if state == MatchState.FULFILLED else None,
        closed_at=received,
    )
    db.session.add(match)
    db.session.flush()
    return match


def listing(
    org: Organization, quantity: int, slug: str | None = None, request: bool = False, **values: Any
) -> Listing:
    """An offer of the fixture (a request with `request=True`), in `slug`'s category or the
    factory's."""
    if slug is not None:
        values["category"] = category(slug)
    factory = RequestFactory if request else ListingFactory
    return factory(organization=org, quantity=quantity, **values)


@dataclass
class Ledger:
    """The fixture's organizations and the matches, by name."""

    harlem: Organization
    bushwick: Organization
    bronx: Organization
    matches: dict[str, Match]


def build_ledger() -> Ledger:
    """Write the fixture ledger and its facts (as the worker would from match.fulfilled)."""
    harlem = OrganizationFactory(name="Harlem HR", slug="harlem", borough="Manhattan")
    bushwick = OrganizationFactory(name="Bushwick Outreach", slug="bushwick", borough="Brooklyn")
    bronx = OrganizationFactory(name="Bronx Drop-in", slug="bronx", borough="Bronx")
    posted = at(date(2026, 6, 20))
    naloxone = listing(harlem, 500, expires_on=date(2026, 9, 1), created_at=posted)
    old_lot = listing(
        harlem, 100, "wound-care-kit", expires_on=date(2026, 7, 1), accepts_expired=True
    )
    nurse = listing(bronx, 40, "registered-nurse", created_at=posted)
    needs = listing(bushwick, 400, request=True, need_by=date(2026, 7, 20), created_at=posted)
    kits = listing(
        bronx, 50, "wound-care-kit", request=True, need_by=date(2026, 7, 5), created_at=posted
    )
    hours = listing(bushwick, 20, "registered-nurse", request=True, created_at=posted)
    matches = {
        # June 30, 23:30 in New York: before the quarter
        "june": fulfil(naloxone, needs, 10, at(date(2026, 6, 30), 23, 30)),
        # July 10: 120 units, lot expires Sep 1 = 53 days after hand-off: short-dated, on time
        "july": fulfil(naloxone, needs, 120, at(date(2026, 7, 10))),
        # Aug 1: the kits' lot expired on July 1: moved, but not waste avoided; late (need-by 7/5)
        "kits": fulfil(old_lot, kits, 30, at(date(2026, 8, 1))),
        # Sep 30, 23:30 in New York (Oct 1 in UTC): still in the quarter; 12 nurse hours
        "nurse": fulfil(nurse, hours, 12, at(date(2026, 9, 30), 23, 30)),
        # cancelled in August: never counted
        "cancelled": fulfil(naloxone, needs, 70, at(date(2026, 8, 5)), state=MatchState.CANCELLED),
        # Oct 1, 00:30 in New York: after the quarter
        "october": fulfil(naloxone, needs, 5, at(date(2026, 10, 1), 0, 30)),
    }
    for match in matches.values():
        impact.record_fulfilled(db.session, match.id)
    db.session.commit()
    return Ledger(harlem, bushwick, bronx, matches)


@pytest.fixture
def unit_costs(app: Any) -> Iterator[dict[str, int]]:
    """Set the fixture's unit costs on the reference catalog, and put them back after."""
    for slug, cents in COSTS.items():
        category(slug).unit_cost_cents = cents
    db.session.commit()
    yield COSTS
    db.session.rollback()
    for row in db.session.scalars(db.select(Category)):
        row.unit_cost_cents = 0
    db.session.commit()


def days_between(a: datetime, b: datetime) -> float:
    """Whole hours between two instants, in days (as the figures round them)."""
    return (b - a) // timedelta(hours=1) / 24
