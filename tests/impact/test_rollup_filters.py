"""A category's or borough's figures read from the rollups equal those grouped from the
facts, for periods cut mid-month; the borough rollups are kept however often events come,
and the migration fills them as a rebuild does."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import sqlalchemy as sa

from coalition.extensions import db
from coalition.models.impact import ImpactFact, ImpactMonthOrgBorough, ImpactMonthRequestBorough
from coalition.models.matches import MatchState
from coalition.services import impact
from coalition.services.impact.scope import Scope, Wording
from coalition.services.impact.sources import RollupSource, source_for
from tests.factories import category
from tests.impact.support import Q3, build_ledger
from tests.impact.test_rollups import PERIODS, random_ledger

BOROUGH_ROLLUPS = (ImpactMonthOrgBorough, ImpactMonthRequestBorough)


def borough_rows() -> dict[str, list[tuple[object, ...]]]:
    """Every row of the borough rollups, comparable."""
    return {
        model.__tablename__: sorted(
            tuple(getattr(row, c.key) for c in model.__table__.columns)
            for row in db.session.scalars(sa.select(model))
        )
        for model in BOROUGH_ROLLUPS
    }


FILTERS = [
    {"borough": "Queens"},
    {"borough": "Bronx"},
    {"borough": "Staten Island"},  # no organization there: nothing
    {"category": "naloxone-nasal-4mg"},
    {"category": "registered-nurse"},  # staffing: hours
    {"borough": "Brooklyn", "category": "wound-care-kit"},
]


def filtered(start, end, asked) -> Scope:
    """The scope of a period and a filter."""
    slug = asked.get("category")
    return Scope(start=start, end=end, borough=asked.get("borough"),
                 category_id=category(slug).id if slug else None)  # fmt: skip


@pytest.mark.parametrize("asked", FILTERS)
@pytest.mark.parametrize(("start", "end"), PERIODS)
def test_filtered_rollups_give_the_figures_of_the_facts(unit_costs, start, end, asked):
    random_ledger()
    scope = filtered(start, end, asked)
    if scope.whole_months() is not None:
        assert isinstance(source_for(db.session, scope), RollupSource)
    for wording in (Wording(), Wording(neutral=True, named_ids=None)):
        rolled = impact.compute(db.session, scope, wording, with_orgs=True)
        assert rolled == impact.compute_from_facts(db.session, scope, wording, with_orgs=True)
    if asked.get("borough") == "Queens" and (start, end) == PERIODS[0]:
        assert rolled.transfers > 0 and rolled.median_days is not None and rolled.organizations


def test_the_fixture_ledger_by_borough_equals_its_facts(unit_costs):
    ledger = build_ledger()
    for borough in {o.borough for o in (ledger.harlem, ledger.bushwick, ledger.bronx)}:
        scope = Scope(start=Q3[0], end=Q3[1], borough=borough)
        rolled = impact.compute(db.session, scope, with_orgs=True)
        assert rolled == impact.compute_from_facts(db.session, scope, with_orgs=True)


def test_recording_twice_or_after_a_rebuild_changes_no_borough_rollup_row(app):
    random_ledger(count=25)
    before = borough_rows()
    assert all(before.values())
    for match_id in db.session.scalars(sa.select(ImpactFact.match_id)).all():
        impact.record_fulfilled(db.session, match_id)
    assert borough_rows() == before
    impact.rebuild_facts(db.session, batch=3)
    assert borough_rows() == before


def test_a_cancelled_match_leaves_the_borough_rollups(app):
    ledger = build_ledger()
    july = ledger.matches["july"]
    july.state = MatchState.CANCELLED
    impact.record_fulfilled(db.session, july.id)
    db.session.commit()
    kept = borough_rows()
    impact.rebuild_facts(db.session)
    assert borough_rows() == kept
    for borough in ("Manhattan", "Brooklyn", "Bronx", "Queens"):
        scope = Scope(start=Q3[0], end=Q3[1], borough=borough)
        rolled = impact.compute(db.session, scope, with_orgs=True)
        assert rolled == impact.compute_from_facts(db.session, scope, with_orgs=True)


def test_the_migration_fills_the_borough_rollups_as_a_rebuild_does(app):
    path = Path(__file__).parents[2] / "migrations/versions/0013_impact_borough_rollups.py"
    spec = importlib.util.spec_from_file_location("borough_rollups_migration", path)
    assert spec and spec.loader
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    random_ledger()
    kept = borough_rows()
    assert all(kept.values())
    for model in BOROUGH_ROLLUPS:
        db.session.execute(sa.delete(model))
    for sql in migration.FILL_ROLLUPS:
        db.session.execute(sa.text(sql))
    assert borough_rows() == kept
