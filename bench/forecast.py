"""Forecast benchmark: a seeded simulation of a coalition sharing supplies under three policies.

Run `.venv/bin/python bench/forecast.py` (`--seeds 5`, `--orgs 30`, `--weeks 26`). Each seed
draws one world: per organization and category (three categories) a weekly demand with
noise, intermittent zero weeks and a few surges (a bad batch in the supply), supplier
deliveries of a fixed size at irregular intervals, and lots with expiry. Every policy runs on
that same world, in its own fresh database, day by day from today on:

- `no_sharing`: nothing moves between organizations;
- `requests_only` (as today): on its weekly count a member posts a request when its stock is
  below one week of its recent use (for two weeks of use), and offers what it holds beyond
  six weeks of use;
- `forecast` (issue 15): members record their weekly counts and deliveries, and the
  platform does the rest: the worker's forecast and suggestion code (`forecast.refresh`,
  `proactive.evaluate`) posts requests before an organization runs out within its lead time
  and offers lots that would expire unused; the surplus offers are as in `requests_only`.

Both sharing policies go through the platform's own code: listings are posted with the
listings service, matched by the worker's per-event proposal code (`propose_for_listing`),
approved, accepted, handed off and received with the match lifecycle (two days in transit),
and a received transfer moves stock with the worker's `apply_fulfilled`. Each decision uses
only what the platform or the member would know that day.

It prints a table per seed and in total, and as its last line JSON with, per policy,
`stockout_org_days` (organization x category days with unmet demand), `expired_units` and
`transfers`, the ratios of `forecast` to `requests_only`, and whether the goal holds: at
most half the stockout days and expired units of `requests_only`, with at most 1.5x its
transfers (summed over the seeds, and in every seed).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa
from common import BOROUGHS  # puts the project on the path

from coalition import create_app
from coalition.extensions import db
from coalition.models.catalog import Category
from coalition.models.listings import ACTIVE_STATUSES, Direction, Listing
from coalition.models.matches import Match, MatchState
from coalition.models.organizations import Organization, OrgStatus, OrgType
from coalition.models.users import CoalitionRole, OrgRole, User
from coalition.seeds import SEEDS
from coalition.services import forecast, inventory, proactive
from coalition.services import listings as listing_service
from coalition.services import match_lifecycle as lifecycle
from coalition.services.listing_input import CREATE_SCHEMAS
from coalition.services.proposals import propose_for_listing

CATEGORIES = ("naloxone-nasal-4mg", "fentanyl-test-strips", "syringes-1ml-28g")
POLICIES = ("no_sharing", "requests_only", "forecast")
TRANSIT_DAYS = 2
SURPLUS_WEEKS = 6


# ---------------------------------------------------------------- the world (same for all)


@dataclass
class World:
    """Demand per day, deliveries and first lots per organization x category."""

    days: int
    orgs: int
    demand: np.ndarray  # days x orgs x categories
    deliveries: dict[tuple[int, int, int], tuple[int, int]]  # (day, org, cat) -> units, expiry
    first_lots: dict[tuple[int, int], tuple[int, int]]  # (org, cat) -> units, expiry day
    places: list[tuple[str, float, float]]


def draw_world(seed: int, orgs: int, weeks: int) -> World:
    """Demand with noise, zero weeks and surges; deliveries at irregular intervals."""
    rng = np.random.default_rng(seed)
    days, cats = weeks * 7, len(CATEGORIES)
    weekly = rng.uniform(20, 100, size=(orgs, cats))
    factor = np.repeat(rng.lognormal(0, 0.25, size=(weeks, orgs, cats)), 7, axis=0)
    zero = np.repeat(rng.random((weeks, orgs, cats)) < 0.1, 7, axis=0)
    factor[zero] = 0.0
    for _ in range(max(1, orgs // 10)):  # a bad batch: three times the use for two weeks
        o, c, start = rng.integers(orgs), rng.integers(cats), rng.integers(0, days - 14)
        factor[start : start + 14, o, c] *= 3.0
    demand = rng.poisson(weekly[None, :, :] / 7 * factor).astype(int)
    deliveries: dict[tuple[int, int, int], tuple[int, int]] = {}
    first_lots: dict[tuple[int, int], tuple[int, int]] = {}
    for o in range(orgs):
        for c in range(cats):
            size = int(round(weekly[o, c] * rng.uniform(4, 7)))
            day = int(rng.integers(7, 35))
            while day < days:
                deliveries[(day, o, c)] = (size, day + int(rng.integers(45, 120)))
                day += int(rng.integers(21, 63))
            first_lots[(o, c)] = (int(weekly[o, c] * rng.uniform(1, 4)), int(rng.integers(20, 90)))
    places = []
    for o in range(orgs):
        borough, lat, lon = BOROUGHS[o % len(BOROUGHS)]
        places.append((borough, lat + rng.uniform(-0.03, 0.03), lon + rng.uniform(-0.03, 0.03)))
    return World(days, orgs, demand, deliveries, first_lots, places)


# ---------------------------------------------------------------- the simulated shelves


@dataclass
class Shelf:
    """One organization's units of one category, by expiry day."""

    lots: dict[int, int] = field(default_factory=dict)
    used: list[int] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Units on the shelf."""
        return sum(self.lots.values())

    def add(self, expiry: int, units: int) -> None:
        """Put units of a lot on the shelf."""
        if units > 0:
            self.lots[expiry] = self.lots.get(expiry, 0) + units

    def take(self, units: int, from_expiry: int = 0) -> list[tuple[int, int]]:
        """Take units, first to expire first (lots expiring before `from_expiry` skipped)."""
        taken = []
        for expiry in sorted(self.lots):
            if units <= 0:
                break
            if expiry < from_expiry:
                continue
            n = min(units, self.lots[expiry])
            self.lots[expiry] -= n
            units -= n
            taken.append((expiry, n))
            if not self.lots[expiry]:
                del self.lots[expiry]
        return taken

    def recent_use(self) -> int:
        """Units used over the last seven days."""
        return sum(self.used[-7:])


@dataclass
class Outcome:
    """What a policy's run came to."""

    stockout_org_days: int = 0
    expired_units: int = 0
    transfers: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """The figures for the JSON line."""
        return {
            "stockout_org_days": self.stockout_org_days,
            "expired_units": self.expired_units,
            "transfers": self.transfers,
        }


# ---------------------------------------------------------------- the platform side


class Platform:
    """A fresh database with the coalition's organizations, one member each and a coordinator."""

    def __init__(self, world: World, folder: Path, name: str) -> None:
        url = f"sqlite:///{folder / f'{name}.db'}"
        config = {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench",
                  "BROKER_FOLDER": str(folder / "queue"), "EVENTS_NUDGE": False}  # fmt: skip
        self.app = create_app(config)
        self.context = self.app.app_context()
        self.context.push()
        db.create_all()
        for seed in SEEDS:
            seed(db.session)
        self.categories = [
            db.session.scalar(sa.select(Category).where(Category.slug == slug))
            for slug in CATEGORIES
        ]
        self.orgs: list[Organization] = []
        self.members: list[User] = []
        for o, (borough, lat, lon) in enumerate(world.places):
            org = Organization(name=f"Program {o}", slug=f"program-{o}", borough=borough,
                               type=OrgType.SYRINGE_SERVICE_PROGRAM, lat=lat, lon=lon,
                               service_radius_km=40, status=OrgStatus.ACTIVE)  # fmt: skip
            db.session.add(org)
            self.orgs.append(org)
        db.session.flush()
        for org in self.orgs:
            member = User(email=f"staff@{org.slug}.example.org", name="Staff", password_hash="x",
                          organization_id=org.id, org_role=OrgRole.MEMBER)  # fmt: skip
            db.session.add(member)
            self.members.append(member)
        self.coordinator = User(email="coordinator@example.org", name="Coordinator",
                                password_hash="x",
                                coalition_role=CoalitionRole.COORDINATOR)  # fmt: skip
        db.session.add(self.coordinator)
        db.session.commit()
        self.org_index = {org.id: i for i, org in enumerate(self.orgs)}
        self.cat_index = {c.id: i for i, c in enumerate(self.categories)}

    def close(self) -> None:
        """Drop the session and the app context."""
        db.session.remove()
        db.engine.dispose()
        self.context.pop()

    def open_listing(self, o: int, c: int, direction: Direction) -> bool:
        """Whether the organization has an open listing of the category in that direction."""
        return bool(
            db.session.scalar(
                sa.select(sa.func.count()).where(
                    Listing.organization_id == self.orgs[o].id,
                    Listing.category_id == self.categories[c].id,
                    Listing.direction == direction,
                    Listing.status.in_(ACTIVE_STATUSES),
                )
            )
        )

    def post(self, o: int, c: int, direction: Direction, raw: dict[str, Any]) -> Listing:
        """A member posts a listing through the listings service."""
        data = CREATE_SCHEMAS[direction]().load({"category": CATEGORIES[c], **raw})
        return listing_service.post_listing(
            db.session, self.members[o], direction.value, data, org=self.orgs[o]
        )


# ---------------------------------------------------------------- one run


def moment(start: date, day: int) -> datetime:
    """Noon UTC of the simulated day."""
    return datetime.combine(start + timedelta(days=day), clock(12), tzinfo=UTC)


class Run:
    """One policy on one world."""

    def __init__(self, world: World, policy: str, folder: Path, seed: int) -> None:
        self.world, self.policy = world, policy
        self.start = date.today()
        self.shelves = {(o, c): Shelf() for o in range(world.orgs) for c in range(len(CATEGORIES))}
        for (o, c), (units, expiry) in world.first_lots.items():
            self.shelves[(o, c)].add(expiry, units)
        self.in_transit: list[tuple[int, int, list[tuple[int, int]], int, int]] = []
        self.outcome = Outcome()
        self.platform = (
            Platform(world, folder, f"{policy}-{seed}") if policy != "no_sharing" else None
        )

    def run(self) -> Outcome:
        """Every simulated day."""
        started = time.perf_counter()
        for day in range(self.world.days):
            self.deliver(day)
            self.arrive(day)
            self.use(day)
            self.expire(day)
            if self.platform is not None and day % 7 == 6:
                self.weekly(day)
        self.outcome.seconds = time.perf_counter() - started
        if self.platform is not None:
            self.platform.close()
        return self.outcome

    # the physical world

    def deliver(self, day: int) -> None:
        """Supplier deliveries arrive (the forecast policy records them)."""
        for (o, c), shelf in self.shelves.items():
            found = self.world.deliveries.get((day, o, c))
            if found is None:
                continue
            units, expiry = found
            shelf.add(expiry, units)
            if self.policy == "forecast":
                self.record(o, c, day, "delivery", units, expiry)

    def arrive(self, day: int) -> None:
        """Transfers in transit arrive; the receiver confirms receipt on the platform."""
        due = [t for t in self.in_transit if t[0] == day]
        self.in_transit = [t for t in self.in_transit if t[0] != day]
        for _, receiver, lots, c, match_id in due:
            for expiry, units in lots:
                self.shelves[(receiver, c)].add(expiry, units)
            self.receive(match_id, receiver, day)

    def use(self, day: int) -> None:
        """Participants take what they need; unmet need is a stockout day."""
        for (o, c), shelf in self.shelves.items():
            wanted = int(self.world.demand[day, o, c])
            got = sum(n for _, n in shelf.take(wanted, from_expiry=day + 1))
            shelf.used.append(got)
            if got < wanted:
                self.outcome.stockout_org_days += 1

    def expire(self, day: int) -> None:
        """Lots reaching their expiry leave the shelf as waste."""
        for shelf in self.shelves.values():
            for expiry in [e for e in shelf.lots if e <= day]:
                self.outcome.expired_units += shelf.lots.pop(expiry)

    # the platform

    def record(self, o: int, c: int, day: int, kind: str, units: int, expiry: int | None) -> None:
        """A member records a count or a delivery of one lot."""
        assert self.platform is not None
        raw: dict[str, Any] = {"category": CATEGORIES[c], "quantity": units, "entry_type": kind}
        if expiry is not None:
            raw["expires_on"] = (self.start + timedelta(days=expiry)).isoformat()
        data = inventory.load_entry(raw)
        inventory.record(db.session, None, self.platform.orgs[o], data, "bench",
                         now=moment(self.start, day), announce=False)  # fmt: skip

    def weekly(self, day: int) -> None:
        """Count day: the policy's decisions, matching of what was posted, hand-offs."""
        assert self.platform is not None
        posted: list[Listing] = []
        for (o, c), shelf in self.shelves.items():
            if self.policy == "forecast":
                posted += self.forecast_policy(o, c, shelf, day)
            else:
                posted += self.requests_policy(o, c, shelf, day)
            posted += self.surplus_offer(o, c, shelf, day)
        db.session.commit()
        for listing in posted:
            self.match(listing, day)
        db.session.commit()

    def requests_policy(self, o: int, c: int, shelf: Shelf, day: int) -> list[Listing]:
        """A request when below one week of recent use, for two weeks of it."""
        assert self.platform is not None
        recent = shelf.recent_use()
        if recent <= 0 or shelf.total >= recent:
            return []
        if self.platform.open_listing(o, c, Direction.REQUEST):
            return []
        need_by = (self.start + timedelta(days=day + 7)).isoformat()
        raw = {"quantity": max(1, 2 * recent - shelf.total), "urgency": "high", "need_by": need_by}
        return [self.platform.post(o, c, Direction.REQUEST, raw)]

    def surplus_offer(self, o: int, c: int, shelf: Shelf, day: int) -> list[Listing]:
        """What is held beyond six weeks of recent use is offered (as members do today)."""
        assert self.platform is not None
        recent = shelf.recent_use()
        spare = shelf.total - SURPLUS_WEEKS * recent
        if recent <= 0 or spare <= 0 or self.platform.open_listing(o, c, Direction.OFFER):
            return []
        soonest = min(shelf.lots)  # the giver hands over what expires first
        expires = (self.start + timedelta(days=soonest)).isoformat()
        return [
            self.platform.post(o, c, Direction.OFFER, {"quantity": spare, "expires_on": expires})
        ]

    def forecast_policy(self, o: int, c: int, shelf: Shelf, day: int) -> list[Listing]:
        """Record the count of every lot; the worker's forecast and suggestions do the rest."""
        assert self.platform is not None
        org, category = self.platform.orgs[o], self.platform.categories[c]
        on_file = inventory.level(db.session, org.id, category.id).lots
        listed = {(e - self.start).days for _, e in on_file if e is not None}
        for expiry in sorted(set(shelf.lots) | listed):  # every lot on the sheet, 0 when gone
            self.record(o, c, day, "count", shelf.lots.get(expiry, 0), expiry)
        now = moment(self.start, day) + timedelta(hours=1)
        forecast.refresh(db.session, org.id, category.id, now)
        made = proactive.evaluate(db.session, org.id, category.id, now)
        listings = [db.session.get_one(Listing, s.listing_id) for s in made.values() if s]
        return [x for x in listings if x.seen_version < x.version]

    def match(self, listing: Listing, day: int) -> None:
        """The worker's per-event proposals; each is approved, accepted and handed off."""
        assert self.platform is not None
        today = self.start + timedelta(days=day)
        for match in propose_for_listing(db.session, listing.id, today):
            self.hand_off(match, day)

    def hand_off(self, match: Match, day: int) -> None:
        """Approve, accept on both sides, hand off; the units leave the giver today."""
        assert self.platform is not None
        p = self.platform
        offer = db.session.get_one(Listing, match.offer_id)
        request = db.session.get_one(Listing, match.request_id)
        giver, receiver = p.org_index[offer.organization_id], p.org_index[request.organization_id]
        c = p.cat_index[offer.category_id]
        lots = self.shelves[(giver, c)].take(match.quantity, from_expiry=day + 1)
        if not lots:
            lifecycle.perform(db.session, p.members[giver], match, "cancel", "nothing left")
            return
        lifecycle.perform(db.session, p.coordinator, match, "approve")
        lifecycle.perform(db.session, p.members[giver], match, "accept")
        lifecycle.perform(db.session, p.members[receiver], match, "accept")
        lifecycle.perform(db.session, p.members[giver], match, "handoff")
        self.in_transit.append((day + TRANSIT_DAYS, receiver, lots, c, match.id))

    def receive(self, match_id: int, receiver: int, day: int) -> None:
        """The receiver confirms; the worker moves the stock on the platform."""
        assert self.platform is not None
        match = db.session.get_one(Match, match_id)
        if match.state != MatchState.HANDED_OFF:
            return
        lifecycle.perform(db.session, self.platform.members[receiver], match, "receive")
        match.received_at = moment(self.start, day)
        db.session.flush()
        if self.policy == "forecast":
            inventory.apply_fulfilled(db.session, match.id)
        db.session.commit()
        self.outcome.transfers += 1


# ---------------------------------------------------------------- report


def ratio(a: float, b: float) -> float | None:
    """a / b, or None when b is zero."""
    return round(a / b, 3) if b else None


def goal(forecast_: dict[str, int], requests: dict[str, int]) -> bool:
    """At most half the stockout days and expired units, at most 1.5x the transfers."""
    return (
        forecast_["stockout_org_days"] <= 0.5 * requests["stockout_org_days"]
        and forecast_["expired_units"] <= 0.5 * requests["expired_units"]
        and forecast_["transfers"] <= 1.5 * max(requests["transfers"], 1)
    )


def main() -> None:
    """Run every policy on every seed's world; print the tables and the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1, help="first seed")
    parser.add_argument("--seeds", type=int, default=5, help="how many seeds from --seed")
    parser.add_argument("--orgs", type=int, default=30)
    parser.add_argument("--weeks", type=int, default=26)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="coalition-bench-forecast-"))
    totals = {p: Outcome() for p in POLICIES}
    per_seed = []
    print(f"{'seed':>4} {'policy':<14} {'stockout_org_days':>17} {'expired_units':>13} "
          f"{'transfers':>9} {'seconds':>8}")  # fmt: skip
    for seed in range(args.seed, args.seed + args.seeds):
        world = draw_world(seed, args.orgs, args.weeks)
        results = {}
        for policy in POLICIES:
            result = Run(world, policy, folder, seed).run()
            results[policy] = result.as_dict()
            total = totals[policy]
            total.stockout_org_days += result.stockout_org_days
            total.expired_units += result.expired_units
            total.transfers += result.transfers
            total.seconds += result.seconds
            print(f"{seed:>4} {policy:<14} {result.stockout_org_days:>17} "
                  f"{result.expired_units:>13} {result.transfers:>9} {result.seconds:>8.1f}",
                  flush=True)  # fmt: skip
        per_seed.append(goal(results["forecast"], results["requests_only"]))
    for policy, total in totals.items():
        print(f"{'all':>4} {policy:<14} {total.stockout_org_days:>17} {total.expired_units:>13} "
              f"{total.transfers:>9} {total.seconds:>8.1f}")  # fmt: skip
    f, r = totals["forecast"].as_dict(), totals["requests_only"].as_dict()
    line = {
        "seeds": args.seeds,
        "orgs": args.orgs,
        "weeks": args.weeks,
        "policies": {p: t.as_dict() for p, t in totals.items()},
        "ratios": {k: ratio(f[k], r[k]) for k in f},
        "goal": {"summed": goal(f, r), "every_seed": all(per_seed)},
    }
    print(json.dumps(line), flush=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
