"""When digests are due: calendar periods in the recipient's zone, DST included (pure)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from coalition.models.digests import DigestFrequency, DigestSubscription
from coalition.services.digests import current_period, due_period, next_due, window_start
from tests.digests.conftest import at

DAILY, WEEKLY = DigestFrequency.DAILY, DigestFrequency.WEEKLY
NEW_YORK = "America/New_York"


def sub(**values: object) -> DigestSubscription:
    """A subscription confirmed long ago (not saved)."""
    base = dict(frequency=WEEKLY, weekday=0, hour=8, timezone=NEW_YORK)
    base.update(values)
    base.setdefault("confirmed_at", at("2026-01-01T00:00:00"))
    return DigestSubscription(**base)


def first_due_moments(subscription: DigestSubscription, start: datetime, end: datetime) -> list:
    """Step a scheduler minute by minute; each period's digest is sent the first time it is due."""
    sent: dict[str, datetime] = {}
    now = start
    while now < end:
        period = due_period(subscription, now)
        if period is not None and period.key not in sent:
            sent[period.key] = now
        now += timedelta(minutes=1)
    return sorted(sent.items())


@pytest.mark.parametrize(
    ("monday", "utc_due"),
    [
        ("2026-10-26", "2026-10-26T12:00:00"),  # daylight time: 08:00 EDT is 12:00 UTC
        ("2026-11-02", "2026-11-02T13:00:00"),  # the day after DST ends: 08:00 EST is 13:00 UTC
        ("2026-03-02", "2026-03-02T13:00:00"),  # standard time
        ("2026-03-09", "2026-03-09T12:00:00"),  # the day after DST starts
    ],
)
def test_weekly_monday_8am_new_york_is_due_at_8am_new_york(monday: str, utc_due: str) -> None:
    subscription = sub()
    due = at(utc_due)
    assert due_period(subscription, due - timedelta(minutes=1)) is None
    period = due_period(subscription, due)
    assert period is not None and period.due_at == due
    assert period.key == datetime.fromisoformat(monday).strftime("%G-W%V")


def test_a_scheduler_running_every_minute_sends_once_a_week_at_8am_local_across_dst() -> None:
    # from midnight on a Monday in New York, for three weeks
    sent = first_due_moments(sub(), at("2026-10-26T04:00:00"), at("2026-11-16T05:00:00"))
    assert sent == [
        ("2026-W44", at("2026-10-26T12:00:00")),
        ("2026-W45", at("2026-11-02T13:00:00")),
        ("2026-W46", at("2026-11-09T13:00:00")),
    ]


def test_daily_digest_across_the_spring_change_stays_at_8am_local() -> None:
    subscription = sub(frequency=DAILY)
    sent = first_due_moments(subscription, at("2026-03-07T05:00:00"), at("2026-03-10T04:00:00"))
    assert sent == [
        ("2026-03-07", at("2026-03-07T13:00:00")),
        ("2026-03-08", at("2026-03-08T12:00:00")),
        ("2026-03-09", at("2026-03-09T12:00:00")),
    ]


def test_an_hour_skipped_by_dst_is_sent_an_hour_later_once() -> None:
    subscription = sub(frequency=DAILY, hour=2)
    sent = first_due_moments(subscription, at("2026-03-08T05:00:00"), at("2026-03-09T04:00:00"))
    assert sent == [("2026-03-08", at("2026-03-08T07:00:00"))]  # 03:00 EDT


def test_period_keys_are_the_recipients_local_date_and_iso_week() -> None:
    tokyo = current_period(DAILY, 0, 8, "Asia/Tokyo", at("2026-11-25T23:30:00"))
    assert tokyo.key == "2026-11-26"
    assert tokyo.due_at == at("2026-11-25T23:00:00")
    new_york = current_period(DAILY, 0, 8, NEW_YORK, at("2026-11-25T23:30:00"))
    assert new_york.key == "2026-11-25"
    week = current_period(WEEKLY, 4, 17, NEW_YORK, at("2026-11-26T15:00:00"))
    assert week.key == "2026-W48"
    assert week.due_at == at("2026-11-27T22:00:00")  # Friday 17:00 EST


def test_nothing_is_due_for_a_period_that_began_before_subscribing() -> None:
    subscription = sub(frequency=DAILY, confirmed_at=at("2026-11-26T14:00:00"))
    assert due_period(subscription, at("2026-11-26T20:00:00")) is None  # 08:00 EST was 13:00Z
    assert due_period(subscription, at("2026-11-27T13:00:00")) is not None


def test_unconfirmed_subscriptions_are_never_due() -> None:
    assert due_period(sub(confirmed_at=None), at("2026-11-02T13:00:00")) is None


def test_first_window_is_one_period_back_then_since_the_last_digest() -> None:
    end = at("2026-11-26T13:00:00")
    assert window_start(sub(frequency=DAILY), end) == end - timedelta(days=1)
    assert window_start(sub(), end) == end - timedelta(days=7)
    last = at("2026-11-20T13:00:00")
    assert window_start(sub(last_period_end=last), end) == last


def test_next_due_for_the_settings_page() -> None:
    assert next_due(sub(), at("2026-10-31T12:00:00")) == at("2026-11-02T13:00:00")
    assert next_due(sub(frequency=DAILY), at("2026-11-26T13:00:00")) == at("2026-11-27T13:00:00")
