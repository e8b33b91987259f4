"""The monthly rollups give the same figures as the facts, for periods cut mid-month, and
the worker keeps them whatever order and however often the events come."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from coalition.extensions import db
from coalition.models.impact import ImpactMonth, ImpactMonthOrg, ImpactMonthRequest
from coalition.models.matches import MatchState
from coalition.services import impact
from coalition.services.impact.scope import Scope, Wording
from coalition.services.impact.sources import FactsSource, RollupSource, source_for
from tests.factories import ListingFactory, OrganizationFactory, RequestFactory, category
from tests.impact.support import Q3, at, build_ledger, fulfil


def rollup_rows():
    """Every rollup row, comparable."""
    return {
        model.__tablename__: sorted(
            tuple(getattr(row, c.key) for c in model.__table__.columns)
            for row in db.session.scalars(sa.select(model))
        )
        for model in (ImpactMonth, ImpactMonthOrg, ImpactMonthRequest)
    }


def random_ledger(seed: int = 7, count: int = 41) -> None:
    """Fulfilled matches on random days of 2026 between organizations of three boroughs."""
    rng = random.Random(seed)
    orgs = [OrganizationFactory(borough=b) for b in ("Manhattan", "Brooklyn", "Bronx", "Queens")]
    slugs = ("naloxone-nasal-4mg", "wound-care-kit", "registered-nurse")
    offers, requests = [], []
    for n in range(8):
        cat = category(slugs[n % 3])
        posted = at(date(2026, 1, 1) + timedelta(days=rng.randint(0, 200)), rng.randint(0, 23))
        expires = date(2026, 6, 1) + timedelta(days=n * 20)
        offers.append(
            ListingFactory(organization=orgs[n % 4], category=cat, quantity=10_000,
                           expires_on=expires)
        )  # fmt: skip
        need_by = date(2026, 3, 1) + timedelta(days=rng.randint(0, 250)) if n % 3 else None
        requests.append(
            RequestFactory(organization=orgs[(n + 1) % 4], category=cat, quantity=10_000,
                           need_by=need_by, created_at=posted)
        )  # fmt: skip
    for _ in range(count):
        n = rng.randrange(8)
        day = date(2026, 1, 1) + timedelta(days=rng.randint(0, 360))
        match = fulfil(offers[n], requests[n], rng.randint(1, 30), at(day, rng.randint(0, 23)))
        impact.record_fulfilled(db.session, match.id)
    db.session.commit()


PERIODS = [
    (date(2026, 1, 1), date(2026, 12, 31)),  # whole months only
    (date(2026, 2, 14), date(2026, 11, 3)),  # part-months at both ends
    (date(2026, 3, 31), date(2026, 4, 30)),  # one day, then a whole month
    (date(2026, 5, 2), date(2026, 5, 29)),  # no whole month: facts only
    (date(2026, 12, 1), date(2026, 12, 31)),
    (None, date(2026, 8, 15)),
    (date(2026, 8, 15), None),
]


@pytest.mark.parametrize(("start", "end"), PERIODS)
def test_rollups_give_the_figures_of_the_facts(unit_costs, start, end):
    random_ledger()
    scope = Scope(start=start, end=end)
    for wording in (Wording(), Wording(neutral=True, named_ids=None)):
        rolled = impact.compute(db.session, scope, wording, with_orgs=True)
        assert rolled == impact.compute_from_facts(db.session, scope, wording, with_orgs=True)
    assert rolled.transfers > 0 or (start, end) == PERIODS[3]


def test_whole_months_come_from_the_rollups_and_the_rest_from_the_facts(app):
    assert Scope(start=date(2026, 2, 14), end=date(2026, 11, 3)).whole_months() == (
        "2026-03", "2026-10",
    )  # fmt: skip
    assert Scope(start=Q3[0], end=Q3[1]).whole_months() == ("2026-07", "2026-09")
    assert Scope(start=date(2026, 5, 2), end=date(2026, 5, 29)).whole_months() is None
    assert isinstance(source_for(db.session, Scope(start=Q3[0], end=Q3[1])), RollupSource)
    narrowed = Scope(start=Q3[0], end=Q3[1], borough="Bronx")
    assert isinstance(source_for(db.session, narrowed), RollupSource)
    tagged = Scope(start=Q3[0], end=Q3[1], tag="County grant")
    assert isinstance(source_for(db.session, tagged), FactsSource)


def test_the_fixture_ledger_in_rollups(unit_costs):
    build_ledger()
    rows = rollup_rows()
    # June 30, July, August (the kits), September (the nurse), October; no cancelled match
    assert [r[0] for r in rows["impact_month_requests"]] == [
        "2026-06", "2026-07", "2026-08", "2026-09", "2026-10",
    ]  # fmt: skip
    assert sum(r[5] for r in rows["impact_months"]) == 5  # transfers
    assert sum(r[6] for r in rows["impact_months"]) == 10 + 120 + 30 + 12 + 5


def test_recording_twice_or_after_a_rebuild_changes_no_rollup_row(app):
    ledger = build_ledger()
    before = rollup_rows()
    for match in ledger.matches.values():
        impact.record_fulfilled(db.session, match.id)
    assert rollup_rows() == before
    impact.rebuild_facts(db.session, batch=2)
    assert rollup_rows() == before


def test_a_match_no_longer_fulfilled_leaves_the_rollups(app):
    ledger = build_ledger()
    july = ledger.matches["july"]
    july.state = MatchState.CANCELLED
    impact.record_fulfilled(db.session, july.id)
    db.session.commit()
    figures = impact.compute(db.session, Scope(start=Q3[0], end=Q3[1]))
    assert (figures.transfers, figures.units, figures.givers) == (2, 30, 2)
    assert [m.month for m in figures.months] == ["2026-08", "2026-09"]
    assert figures == impact.compute_from_facts(db.session, Scope(start=Q3[0], end=Q3[1]))


def test_the_migration_fills_the_rollups_as_a_rebuild_does(app):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parents[2] / "migrations/versions/0009_impact_rollups.py"
    spec = importlib.util.spec_from_file_location("rollups_migration", path)
    assert spec and spec.loader
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    build_ledger()
    kept = rollup_rows()
    for model in (ImpactMonth, ImpactMonthOrg, ImpactMonthRequest):
        db.session.execute(sa.delete(model))
    for sql in migration.FILL_ROLLUPS:
        db.session.execute(sa.text(sql))
    assert rollup_rows() == kept
    assert sum(r[5] for r in kept["impact_months"]) == 5
