"""Finding 2 of issue 11: before approval a counterpart's distance is coarse, in the match,
its explanation and its alternatives, and no factor gives the exact distance back."""

from __future__ import annotations

import pytest

from coalition.extensions import db
from coalition.services.discretion import distance_phrase, rounded_km
from coalition.services.match_lifecycle import approve
from tests.matches_support import make_pair


@pytest.mark.parametrize(
    ("km", "shown", "phrase"),
    [
        (0.3, 2.0, "less than 2 km away"),
        (1.99, 2.0, "less than 2 km away"),
        (2.0, 5.0, "2 to 5 km away"),
        (4.9, 5.0, "2 to 5 km away"),
        (5.0, 5.0, "5 km away"),
        (14.64, 15.0, "15 km away"),
        (16.37, 16.0, "16 km away"),
    ],
)
def test_distances_before_approval_are_bands_under_five_km_and_whole_km_above(km, shown, phrase):
    assert (rounded_km(km), distance_phrase(km)) == (shown, phrase)


def test_before_approval_the_api_gives_no_exact_distance(login):
    pair = make_pair()
    seen = login(pair.receiver_member).get(f"/api/v1/matches/{pair.match.id}").json
    assert seen["distance_km"] == 15.0
    explanation = seen["explanation"]
    assert explanation["distance_km"] == 15.0
    assert "D" not in explanation["factors"] and "value_per_unit" not in explanation["factors"]
    assert "value" not in explanation
    assert [alt["distance_km"] for alt in explanation["alternatives"]] == [22.0]
    assert all("value_per_unit" not in alt for alt in explanation["alternatives"])
    assert "14.6" not in login(pair.receiver_member).get(f"/matches/{pair.match.id}").text


def test_coordinators_and_both_sides_after_approval_see_exact_distances(login):
    pair = make_pair()
    coordinator = login(pair.coordinator).get(f"/api/v1/matches/{pair.match.id}").json
    assert coordinator["explanation"]["distance_km"] == 14.64
    assert coordinator["explanation"]["factors"]["D"] == 0.7559
    approve(db.session, pair.coordinator, pair.match)
    db.session.commit()
    member = login(pair.receiver_member).get(f"/api/v1/matches/{pair.match.id}").json
    assert (member["distance_km"], member["explanation"]["distance_km"]) == (14.6, 14.64)
