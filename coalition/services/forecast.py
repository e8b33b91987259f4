"""Forecasts of stock: how fast each organization uses each category, and how long it lasts.

Use is read from the entries: between two counts, what was there (plus deliveries and
transfers in, less transfers out) minus what is counted now; a period where that comes out
negative (a delivery nobody recorded) says nothing and is left out, unless what was given
out was reported for it. Counts taken within half a day of each other are one observation.

The daily use is bucketed into weeks. With four weeks or more, statsmodels' exponential
smoothing (Holt's damped trend from eight weeks, simple smoothing before) forecasts next
week's use, and the spread of its one-step errors gives an 80% band. With less, the
average over the history, with a band from the spread of the periods (at least ±20%).
One count alone gives a level but no rate; no entries give nothing.

Computed by the worker (`stock.counted`, transfers and a periodic job), never in a request.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from coalition.models.base import utcnow
from coalition.models.inventory import EntryType, StockEntry, StockForecast
from coalition.services.inventory import UNLABELLED, Level
from coalition.sessions import Session

DAY = 86400.0
MERGE_SECONDS = 12 * 3600
ETS_MIN_WEEKS = 4
TREND_MIN_WEEKS = 8
Z80 = 1.2816
MIN_BAND = 0.10
AVERAGE_BAND = 0.20
SINGLE_BAND = 0.30
MAX_WEEKS = 52
HORIZON = 3650  # days: beyond this, no date is given (stock that barely moves)


@dataclass(frozen=True)
class Interval:
    """Units used between two moments."""

    start: datetime
    end: datetime
    used: float

    @property
    def days(self) -> float:
        """Its length in days."""
        return (self.end - self.start).total_seconds() / DAY

    @property
    def rate(self) -> float:
        """Units a day."""
        return self.used / self.days if self.days > 0 else 0.0


@dataclass
class Forecast:
    """What the history says about one organization's use of one category."""

    on_hand: int = 0
    rate: float | None = None
    rate_low: float | None = None
    rate_high: float | None = None
    method: str = "none"
    history_days: int = 0
    lots: list[dict[str, Any]] = field(default_factory=list)

    @property
    def days_left(self) -> float | None:
        """Days until the stock is gone at the forecast rate (None without a rate)."""
        return _days(self.on_hand, self.rate)

    @property
    def days_low(self) -> float | None:
        """Days left at the band's high rate."""
        return _days(self.on_hand, self.rate_high)

    @property
    def days_high(self) -> float | None:
        """Days left at the band's low rate (None when that rate is zero: no end in sight)."""
        return _days(self.on_hand, self.rate_low)

    @property
    def expiring_units(self) -> int:
        """Units projected to be left unused when their lot expires."""
        return sum(int(lot["unused_at_expiry"]) for lot in self.lots)


def _days(on_hand: int, rate: float | None) -> float | None:
    """on_hand / rate, or None when there is no positive rate."""
    if rate is None or rate <= 0:
        return None
    return on_hand / rate


# ---------------------------------------------------------------- use from the entries


def usage_intervals(entries: Sequence[StockEntry]) -> list[Interval]:
    """The periods between counts with the units used in each, oldest first."""
    level = Level(entries[0].category_id) if entries else Level(0)
    groups: list[_Observation] = []
    reported = 0.0
    for entry in entries:
        if entry.entry_type == EntryType.DISTRIBUTED:
            reported += entry.quantity
            continue
        if entry.entry_type != EntryType.COUNT:
            level.apply(entry)
            continue
        used = _counted_use(level, entry)
        level.apply(entry)
        last = groups[-1] if groups else None
        if last is not None and (entry.observed_at - last.at).total_seconds() < MERGE_SECONDS:
            last.used += max(used, 0.0)
            last.known = last.known and used >= 0
        else:
            groups.append(_Observation(entry.observed_at, max(used, 0.0), used >= 0, reported))
            reported = 0.0
    intervals = [
        Interval(before.at, after.at, after.used if after.known else after.reported)
        for before, after in zip(groups, groups[1:], strict=False)
        if after.known or after.reported
    ]
    return intervals or _reported_intervals(entries)


@dataclass
class _Observation:
    """Counts taken together: when, what they say was used since the last ones, whether
    that can be read (no unrecorded delivery), and what was reported as given out."""

    at: datetime
    used: float
    known: bool
    reported: float


def _counted_use(level: Level, entry: StockEntry) -> float:
    """What a count says was used since the level was last known: the whole category for a
    count without a lot, that lot's for a lot count (a lot seen for the first time: none)."""
    if entry.lot_key == UNLABELLED:
        return float(level.raw_total - entry.quantity)
    before = level.lots.get(entry.lot_key)
    return 0.0 if before is None else float(before - entry.quantity)


def _reported_intervals(entries: Sequence[StockEntry]) -> list[Interval]:
    """Without two counts: the periods reported as given out (a week when no start is given)."""
    out = []
    for entry in entries:
        if entry.entry_type != EntryType.DISTRIBUTED:
            continue
        end = entry.observed_at
        if entry.period_start is not None:
            start = datetime.combine(entry.period_start, datetime.min.time(), tzinfo=UTC)
        else:
            start = end - timedelta(days=7)
        if start < end:
            out.append(Interval(start, end, float(entry.quantity)))
    return out


def weekly_use(intervals: Sequence[Interval]) -> list[float]:
    """Units used per week, oldest first, counting back from the end of the last interval.

    A week is counted when intervals cover at least three of its days (scaled up to seven).
    """
    if not intervals:
        return []
    end = max(i.end for i in intervals)
    first = min(i.start for i in intervals)
    weeks = min(MAX_WEEKS, math.ceil((end - first).total_seconds() / (7 * DAY) - 1e-9))
    series: list[float] = []
    for k in range(weeks, 0, -1):
        w_start, w_end = end - timedelta(days=7 * k), end - timedelta(days=7 * (k - 1))
        used, covered = 0.0, 0.0
        for interval in intervals:
            overlap = (min(w_end, interval.end) - max(w_start, interval.start)).total_seconds()
            if overlap > 0:
                used += interval.rate * overlap / DAY
                covered += overlap / DAY
        if covered >= 3:
            series.append(used * 7 / covered)
    return series


# ---------------------------------------------------------------- the models


def _average(intervals: Sequence[Interval]) -> tuple[float, float, float, str]:
    """The average rate, with a band from the periods' spread (at least ±20%)."""
    days = sum(i.days for i in intervals)
    rate = sum(i.used for i in intervals) / days if days else 0.0
    if len(intervals) == 1:
        return rate, rate * (1 - SINGLE_BAND), rate * (1 + SINGLE_BAND), "average"
    low = min(min(i.rate for i in intervals), rate * (1 - AVERAGE_BAND))
    high = max(max(i.rate for i in intervals), rate * (1 + AVERAGE_BAND))
    return rate, max(low, 0.0), high, "average"


def _smoothed(weeks: Sequence[float]) -> tuple[float, float, float, str] | None:
    """Next week's use by exponential smoothing, as units a day with an 80% band."""
    import numpy as np
    from statsmodels.tsa.holtwinters import ExponentialSmoothing, SimpleExpSmoothing

    y = np.asarray(weeks, dtype=float)
    if float(np.ptp(y)) == 0.0:  # nothing to smooth: the same use every week
        rate = float(y[0]) / 7
        return rate, rate * (1 - MIN_BAND), rate * (1 + MIN_BAND), "ets"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if len(y) >= TREND_MIN_WEEKS:
                model: Any = ExponentialSmoothing(
                    y, trend="add", damped_trend=True, initialization_method="estimated"
                )
            else:
                model = SimpleExpSmoothing(y, initialization_method="estimated")
            fit = model.fit()
            next_week = float(fit.forecast(1)[0])
            residuals = y - np.asarray(fit.fittedvalues, dtype=float)
        except (ValueError, np.linalg.LinAlgError):
            return None
    if not math.isfinite(next_week):
        return None
    next_week = max(next_week, 0.0)
    spread = Z80 * float(np.std(residuals, ddof=1)) if len(y) > 1 else 0.0
    low = max(min(next_week - spread, next_week * (1 - MIN_BAND)), 0.0)
    high = max(next_week + spread, next_week * (1 + MIN_BAND))
    return next_week / 7, low / 7, high / 7, "ets"


def estimate(entries: Sequence[StockEntry]) -> Forecast:
    """The forecast of one organization × category from its entries (in observed order)."""
    if not entries:
        return Forecast()
    level = Level(entries[0].category_id)
    for entry in entries:
        level.apply(entry)
    result = Forecast(on_hand=level.total)
    intervals = usage_intervals(entries)
    if not intervals:
        result.method = "one_count"
        return result
    result.history_days = round((intervals[-1].end - intervals[0].start).total_seconds() / DAY)
    weeks = weekly_use(intervals)
    found = _smoothed(weeks) if len(weeks) >= ETS_MIN_WEEKS else None
    rate, low, high, method = found or _average(intervals)
    result.rate, result.rate_low, result.rate_high, result.method = rate, low, high, method
    return result


def project_lots(
    level: Level, rate: float | None, today: date, cautious: float | None = None
) -> list[dict[str, Any]]:
    """Each dated lot: when it will be used up at `rate` (first to expire used first), and
    what is left unused at its expiry even at the `cautious` (higher) rate, so that only what
    will surely not be used is called surplus. Without a rate nothing is called unused."""
    rows = [r for r in level.lot_rows() if r["expires_on"] is not None]
    fast = max(rate or 0.0, cautious or 0.0)
    ahead = 0.0
    out = []
    for row in rows:
        days = max((row["expires_on"] - today).days, 0)
        usable = max(0.0, fast * days - ahead)
        unused = row["quantity"] - min(float(row["quantity"]), usable) if rate else 0.0
        ahead += row["quantity"]
        used_up = today + timedelta(days=ahead / rate) if rate and ahead / rate < HORIZON else None
        out.append(
            {
                "lot": row["lot"],
                "expires_on": row["expires_on"].isoformat(),
                "quantity": row["quantity"],
                "used_up_on": used_up.isoformat() if used_up else None,
                "unused_at_expiry": int(round(unused)),
            }
        )
    return out


# ---------------------------------------------------------------- storing


def _entries(session: Session, org_id: int, category_id: int) -> list[StockEntry]:
    """The pair's entries in observed order."""
    return list(
        session.scalars(
            sa.select(StockEntry)
            .where(StockEntry.organization_id == org_id, StockEntry.category_id == category_id)
            .order_by(StockEntry.observed_at, StockEntry.id)
        )
    )


def refresh(
    session: Session, org_id: int, category_id: int, now: datetime | None = None
) -> StockForecast:
    """Compute and store the forecast of one organization × category; flush."""
    now = now or utcnow()
    entries = _entries(session, org_id, category_id)
    found = estimate(entries)
    level = Level(category_id)
    for entry in entries:
        level.apply(entry)
    found.lots = project_lots(level, found.rate, now.date(), found.rate_high)
    row = session.scalar(
        sa.select(StockForecast).where(
            StockForecast.organization_id == org_id, StockForecast.category_id == category_id
        )
    )
    if row is None:
        row = StockForecast(organization_id=org_id, category_id=category_id)
        session.add(row)
    _fill(row, found, now)
    session.flush()
    return row


def _fill(row: StockForecast, found: Forecast, now: datetime) -> None:
    """Copy a forecast into its stored row."""
    row.computed_at = now
    row.on_hand = found.on_hand
    row.rate, row.rate_low, row.rate_high = found.rate, found.rate_low, found.rate_high
    row.days_left, row.days_low, row.days_high = found.days_left, found.days_low, found.days_high
    days = found.days_left
    soon = days is not None and days < HORIZON
    row.runs_out_on = (now + timedelta(days=days)).date() if soon and days is not None else None
    row.method = found.method
    row.history_days = found.history_days
    row.lots = found.lots
    row.expiring_units = found.expiring_units


def refresh_all(session: Session, now: datetime | None = None) -> int:
    """Recompute every organization × category with entries; how many were computed."""
    pairs = session.execute(
        sa.select(StockEntry.organization_id, StockEntry.category_id).distinct()
    ).all()
    for org_id, category_id in pairs:
        refresh(session, org_id, category_id, now)
    return len(pairs)


def forecasts_for(session: Session, org_id: int) -> dict[int, StockForecast]:
    """The stored forecasts of an organization, by category id."""
    rows = session.scalars(sa.select(StockForecast).where(StockForecast.organization_id == org_id))
    return {row.category_id: row for row in rows}
