"""Exponential backoff (pure)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from coalition.backoff import Backoff


@pytest.mark.parametrize(
    ("failures", "seconds"), [(0, 1.0), (1, 1.0), (2, 2.0), (3, 4.0), (6, 32.0), (7, 60.0)]
)
def test_the_wait_doubles_from_the_base_up_to_the_cap(failures, seconds):
    assert Backoff(1.0, 60.0).seconds(failures) == seconds


def test_a_huge_failure_count_stays_at_the_cap():
    assert Backoff(0.5, 5.0).seconds(10**6) == 5.0


def test_delay_is_the_same_wait_as_a_timedelta():
    assert Backoff(30.0, 3600.0).delay(3) == timedelta(seconds=120)
