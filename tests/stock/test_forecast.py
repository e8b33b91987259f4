"""Forecasts against histories with known answers, and the worker that computes them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from coalition.extensions import db
from coalition.models.events import OutboxEvent
from coalition.models.inventory import EntryType, StockEntry, StockFlag, StockForecast
from coalition.services import forecast, inventory
from tests.factories import OrganizationFactory, category
from worker.handlers import HANDLERS
from worker.jobs import JOBS
from worker.processing import Outcome, RetryPolicy, process

START = datetime(2026, 6, 1, 16, 0, tzinfo=UTC)


def entry(day: float, quantity: int, kind: EntryType = EntryType.COUNT, **kw) -> StockEntry:
    return StockEntry(
        organization_id=1,
        category_id=1,
        entry_type=kind,
        quantity=quantity,
        observed_at=START + timedelta(days=day),
        flag=StockFlag.NONE,
        lot=kw.pop("lot", ""),
        **kw,
    )


def weekly_counts(uses: list[int], start_level: int = 5000) -> list[StockEntry]:
    """A count every week, each lower by that week's use."""
    level, rows = start_level, [entry(0, start_level)]
    for week, used in enumerate(uses, start=1):
        level -= used
        rows.append(entry(7 * week, level))
    return rows


def test_zero_history_forecasts_nothing():
    found = forecast.estimate([])
    assert (found.method, found.rate, found.days_left, found.on_hand) == ("none", None, None, 0)


def test_one_count_gives_the_level_but_no_rate():
    found = forecast.estimate([entry(0, 80)])
    assert (found.method, found.on_hand, found.rate, found.days_left) == (
        "one_count",
        80,
        None,
        None,
    )


def test_a_constant_rate_over_a_short_history_is_averaged():
    found = forecast.estimate([entry(d, 200 - 10 * d) for d in range(10)])
    assert found.method == "average"
    assert found.rate == pytest.approx(10.0)
    assert found.days_left == pytest.approx(11.0)
    assert found.days_low < 11.0 < found.days_high
    assert found.history_days == 9


def test_a_steady_rate_over_months_is_smoothed_with_a_band_around_it():
    found = forecast.estimate(weekly_counts([66, 74] * 6))
    assert found.method == "ets"
    assert found.rate == pytest.approx(10.0, abs=0.7)
    assert found.rate_low < found.rate < found.rate_high
    assert found.rate_low > 5 and found.rate_high < 15


def test_the_same_use_every_week_is_that_rate():
    found = forecast.estimate(weekly_counts([70] * 6, start_level=1000))
    assert found.rate == pytest.approx(10.0)
    assert found.days_left == pytest.approx(58.0)


def test_a_rising_use_is_forecast_above_its_average():
    uses = [70 + 14 * k for k in range(12)]  # 10 a day rising by 2 a day every week
    found = forecast.estimate(weekly_counts(uses))
    average = sum(uses) / (7 * len(uses))
    assert found.method == "ets"
    assert found.rate > average + 8
    assert 30 <= found.rate <= 37  # next week: 238 a week is 34 a day


def test_a_delivery_in_between_counts_is_not_use():
    rows = [entry(0, 100), entry(3, 500, EntryType.DELIVERY), entry(5, 550), entry(10, 500)]
    assert forecast.estimate(rows).rate == pytest.approx(10.0)


def test_a_period_with_an_unrecorded_delivery_is_left_out():
    rows = [entry(0, 100), entry(5, 50), entry(10, 600), entry(15, 550)]
    intervals = forecast.usage_intervals(rows)
    assert [(round(i.days), i.used) for i in intervals] == [(5, 50), (5, 50)]


def test_counts_of_lots_taken_together_are_one_observation():
    rows = [
        entry(0, 50, lot="A"), entry(0.01, 50, lot="B"),
        entry(5, 30, lot="A"), entry(5.01, 20, lot="B"),
    ]  # fmt: skip
    intervals = forecast.usage_intervals(rows)
    assert len(intervals) == 1 and intervals[0].used == 50


def test_reported_distributions_alone_give_a_rate():
    rows = [
        entry(7, 70, EntryType.DISTRIBUTED, period_start=date(2026, 6, 1)),
        entry(14, 70, EntryType.DISTRIBUTED, period_start=date(2026, 6, 8)),
    ]
    assert forecast.estimate(rows).rate == pytest.approx(10.0, rel=0.1)


def test_lots_are_projected_first_to_expire_first():
    level = inventory.Level(1, {("A", date(2026, 6, 6)): 80, ("B", date(2026, 9, 1)): 40})
    lots = forecast.project_lots(level, 10.0, date(2026, 6, 1))
    assert [(lot["lot"], lot["unused_at_expiry"]) for lot in lots] == [("A", 30), ("B", 0)]
    assert lots[0]["used_up_on"] == "2026-06-09"
    cautious = forecast.project_lots(level, 10.0, date(2026, 6, 1), cautious=12.0)
    assert [lot["unused_at_expiry"] for lot in cautious] == [20, 0]
    assert all(
        lot["unused_at_expiry"] == 0 for lot in forecast.project_lots(level, None, date(2026, 6, 1))
    )


# ---------------------------------------------------------------- the worker


def _count(org, quantity, when):
    data = inventory.load_entry({"category": "naloxone-nasal-4mg", "quantity": quantity})
    inventory.record(db.session, None, org, data, "test", now=when)
    db.session.commit()


def test_a_count_is_forecast_by_the_worker_not_the_request(app):
    org = OrganizationFactory()
    now = datetime.now(UTC)
    _count(org, 200, now - timedelta(days=10))
    _count(org, 100, now)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StockForecast)) == 0
    bodies = db.session.scalars(
        sa.select(OutboxEvent.payload).where(OutboxEvent.type == "stock.counted")
    ).all()
    assert len(bodies) == 2
    assert process(db.session, "forecast", bodies[-1], HANDLERS, RetryPolicy()).outcome == (
        Outcome.DONE
    )
    row = db.session.scalar(sa.select(StockForecast))
    assert row.on_hand == 100 and row.rate == pytest.approx(10.0)
    assert row.days_left == pytest.approx(10.0)
    assert row.runs_out_on == (now + timedelta(days=10)).date()


def test_the_periodic_job_forecasts_every_pair(app):
    org = OrganizationFactory()
    now = datetime.now(UTC)
    _count(org, 50, now)
    data = inventory.load_entry({"category": "fentanyl-test-strips", "quantity": 20})
    inventory.record(db.session, None, org, data, "test", now=now)
    job = next(j for j in JOBS if j.name == "forecast-stock")
    assert job.interval({}) == 3600.0
    assert forecast.refresh_all(db.session, now) == 2
    db.session.commit()
    rows = db.session.scalars(sa.select(StockForecast)).all()
    assert {r.category_id for r in rows} == {
        category("naloxone-nasal-4mg").id,
        category("fentanyl-test-strips").id,
    }
    assert {r.method for r in rows} == {"one_count"}


# ---------------------------------------------------------------- where people see it


def _stored(org, **values):
    row = StockForecast(
        organization_id=org.id, category_id=category("naloxone-nasal-4mg").id, **values
    )
    db.session.add(row)
    db.session.commit()
    return row


def test_the_home_page_says_how_many_days_are_left_with_the_band(login):
    from tests.factories import UserFactory

    member = UserFactory()
    _count(member.organization, 90, datetime.now(UTC))
    _stored(member.organization, on_hand=90, rate=10.0, rate_low=7.0, rate_high=15.0,
            days_left=9.0, days_low=6.0, days_high=12.9, method="ets")  # fmt: skip
    html = login(member).get("/").get_data(as_text=True)
    assert "about 9 days left (6–13)" in html
    member.locale = "es"
    db.session.commit()
    html = login(member).get("/stock/").get_data(as_text=True)
    assert "quedan aproximadamente 9 días (6–13)" in html


def test_the_api_gives_the_forecast_with_the_level(app, client):
    from tests.listings_support import token_for

    org = OrganizationFactory()
    _count(org, 90, datetime.now(UTC))
    _stored(org, on_hand=90, rate=10.0, rate_low=7.0, rate_high=15.0, days_left=9.0,
            days_low=6.0, days_high=12.9, method="ets", expiring_units=4)  # fmt: skip
    body = client.get("/api/v1/stock", headers={"Authorization": f"Bearer {token_for(org)}"}).json
    assert body[0]["forecast"]["days_left"] == 9.0
    assert body[0]["forecast"]["rate_per_day"] == 10.0
    assert body[0]["forecast"]["expiring_units"] == 4


def test_stock_that_barely_moves_has_no_run_out_date_and_no_overflow(app):
    org = OrganizationFactory()
    now = datetime.now(UTC)
    data = inventory.load_entry(
        {"category": "naloxone-nasal-4mg", "quantity": 900000, "expires_on": "2027-06-01"}
    )
    inventory.record(db.session, None, org, data, "test", now=now - timedelta(days=30))
    data = inventory.load_entry(
        {"category": "naloxone-nasal-4mg", "quantity": 899999, "expires_on": "2027-06-01"}
    )
    inventory.record(db.session, None, org, data, "test", now=now)
    row = forecast.refresh(db.session, org.id, category("naloxone-nasal-4mg").id, now)
    assert row.runs_out_on is None and row.lots[0]["used_up_on"] is None
