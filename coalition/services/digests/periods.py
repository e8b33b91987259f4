"""Calendar periods: when a subscription's digest is due, in the recipient's time zone, and
which window of time it covers (windows follow one another without gap or overlap)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Protocol
from zoneinfo import ZoneInfo, available_timezones

from coalition.models.digests import DigestFrequency

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

SCHEDULE_FIELDS = ("frequency", "weekday", "hour", "timezone", "confirmed_at", "last_period_end")


class Schedule(Protocol):
    """When a subscription's digests are due: a subscription, or a row of its columns."""

    @property
    def frequency(self) -> DigestFrequency:
        """Daily or weekly."""

    @property
    def weekday(self) -> int:
        """Monday is 0."""

    @property
    def hour(self) -> int:
        """Local hour."""

    @property
    def timezone(self) -> str:
        """IANA name."""

    @property
    def confirmed_at(self) -> datetime | None:
        """Since when it is due."""

    @property
    def last_period_end(self) -> datetime | None:
        """Where the next window starts."""


@dataclass(frozen=True)
class Period:
    """A calendar period in the recipient's zone, and when its digest is due."""

    key: str
    due_at: datetime  # UTC


@cache
def zone(name: str) -> ZoneInfo:
    """A time zone by IANA name (cached)."""
    return ZoneInfo(name)


@cache
def timezone_names() -> frozenset[str]:
    """Every IANA time zone name."""
    return frozenset(available_timezones())


def period_key(frequency: DigestFrequency, day: date) -> str:
    """'2026-11-26' for a daily digest, '2026-W48' (ISO week) for a weekly one."""
    if frequency == DigestFrequency.DAILY:
        return day.isoformat()
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def period_length(frequency: DigestFrequency) -> timedelta:
    """A day or a week."""
    return timedelta(days=1 if frequency == DigestFrequency.DAILY else 7)


def local_moment(day: date, hour: int, tz: ZoneInfo) -> datetime:
    """`hour`:00 on `day` in the zone, in UTC (a time skipped by DST lands an hour later)."""
    return datetime.combine(day, time(hour), tzinfo=tz).astimezone(UTC)


def current_period(
    frequency: DigestFrequency, weekday: int, hour: int, timezone: str, now: datetime
) -> Period:
    """The period `now` falls in, in the recipient's zone, and its due moment."""
    tz = zone(timezone)
    today = now.astimezone(tz).date()
    day = today
    if frequency == DigestFrequency.WEEKLY:
        day = today - timedelta(days=today.weekday()) + timedelta(days=weekday)
    return Period(period_key(frequency, today), local_moment(day, hour, tz))


def due_period(sub: Schedule, now: datetime) -> Period | None:
    """The period whose digest is due now, if any (never one that began before subscribing)."""
    period = current_period(sub.frequency, sub.weekday, sub.hour, sub.timezone, now)
    if period.due_at > now or sub.confirmed_at is None or period.due_at < sub.confirmed_at:
        return None
    return period


def window_start(sub: Schedule, end: datetime) -> datetime:
    """Since the last digest, or one period back for the first."""
    return sub.last_period_end or end - period_length(sub.frequency)


def next_due(sub: Schedule, now: datetime) -> datetime | None:
    """When the next digest is due after `now` (for the settings page)."""
    tz = zone(sub.timezone)
    today = now.astimezone(tz).date()
    for offset in range(8):
        day = today + timedelta(days=offset)
        if sub.frequency == DigestFrequency.WEEKLY and day.weekday() != sub.weekday:
            continue
        moment = local_moment(day, sub.hour, tz)
        if moment > now:
            return moment
    return None
