"""The per-event proposer, the open-listings index and the explanations."""

from __future__ import annotations

import json

import pytest

from coalition.matching import (
    OpenListings,
    Problem,
    Solution,
    explain,
    explain_solution,
    propose_for,
    solve_greedy,
    solve_optimal,
)
from coalition.matching.model import Allocation

from .builders import (
    TODAY,
    north_of,
    staff_offer,
    staff_request,
    supply_offer,
    supply_request,
)


def test_a_request_takes_the_most_valuable_offers_first() -> None:
    near = supply_offer(id="near", quantity=25)  # U 2, D 1: 2.0
    far = supply_offer(id="far", lat=north_of(15), quantity=100)  # D 0.75: 1.5
    dated = supply_offer(id="dated", lat=north_of(15), quantity=10, expires_on=TODAY)  # E 1.5
    proposals = propose_for(supply_request(quantity=40), OpenListings([far, near, dated]), TODAY)
    taken = [(p.offer_id, p.quantity) for p in proposals]
    assert taken == [("dated", 10), ("near", 25), ("far", 5)]
    assert [round(p.value, 9) for p in proposals] == [2.25, 2.0, 1.5]


def test_an_offer_serves_the_most_urgent_requests_first() -> None:
    requests = OpenListings([
        supply_request(id="low", urgency="low"),
        supply_request(id="critical", urgency="critical", quantity=30),
        supply_request(id="high", urgency="high", quantity=30),
    ])  # fmt: skip
    proposals = propose_for(supply_offer(quantity=50), requests, TODAY)
    assert [(p.request_id, p.quantity) for p in proposals] == [("critical", 30), ("high", 20)]


def test_capacities_and_remaining_are_respected() -> None:
    offers = OpenListings()
    offers.add(supply_offer(id="a", quantity=100), available=3)
    offers.add(supply_offer(id="b", quantity=100, lat=north_of(1)))
    proposals = propose_for(supply_request(quantity=40), offers, TODAY, remaining=10)
    assert [(p.offer_id, p.quantity) for p in proposals] == [("a", 3), ("b", 7)]


def test_staff_hours_cap_a_pair() -> None:
    offers = OpenListings([staff_offer(quantity=10)])
    proposals = propose_for(staff_request(quantity=8), offers, TODAY)
    assert [(p.offer_id, p.quantity) for p in proposals] == [("o", 5)]  # 12:00-17:00


def test_ties_go_to_the_listing_opened_first() -> None:
    offers = OpenListings([supply_offer(id="first", quantity=5), supply_offer(id="second")])
    proposals = propose_for(supply_request(quantity=8), offers, TODAY)
    assert [(p.offer_id, p.quantity) for p in proposals] == [("first", 5), ("second", 3)]


def test_remote_staff_far_away_are_found() -> None:
    remote = staff_offer(id="remote", remote_ok=True, lat=north_of(300))
    offers = OpenListings([remote, staff_offer(id="onsite", lat=north_of(300))])
    proposals = propose_for(staff_request(remote_ok=True), offers, TODAY)
    assert [p.offer_id for p in proposals] == ["remote"]
    assert proposals[0].explanation["remote"] is True


def test_nothing_to_propose() -> None:
    assert propose_for(supply_request(), OpenListings(), TODAY) == []
    assert propose_for(supply_request(), OpenListings([supply_offer(org="B")]), TODAY) == []


def test_explanations_say_why_alternatives_were_passed_over() -> None:
    offers = OpenListings()
    offers.add(supply_offer(id="chosen", lat=north_of(3)))
    offers.add(supply_offer(id="mine", org="B"))  # the requesting organization's own stock
    offers.add(supply_offer(id="empty"), available=0)
    offers.add(supply_offer(id="worse", lat=north_of(20)))
    offers.add(supply_offer(id="expired", expires_on=TODAY.replace(day=20)))
    proposals = propose_for(supply_request(quantity=10), offers, TODAY, alternatives=4)
    assert [p.offer_id for p in proposals] == ["chosen"]
    explanation = proposals[0].explanation
    reasons = {a["offer"]: a["reason"] for a in explanation["alternatives"]}
    assert reasons == {
        "mine": "same organization",
        "empty": "no capacity left",
        "expired": "already expired",
        "worse": "lower value 1.333 < 1.900",
    }
    assert explanation["factors"] == {"U": 2, "D": 0.95, "E": 1.0, "value_per_unit": 1.9}
    assert explanation["distance_km"] == 3.0 and explanation["value"] == 19.0
    json.dumps(explanation)


def test_too_far_for_the_other_side_is_explained() -> None:
    offers = OpenListings([supply_offer(id="shy", lat=north_of(10), max_distance_km=5)])
    weighed = offers.weigh(supply_request(), TODAY)
    assert not weighed.eligible[0] and weighed.reason(0) == "too far (10.0 km > 5 km)"


def test_the_index_tracks_availability() -> None:
    offers = OpenListings([supply_offer(id="a", quantity=5)])
    offers.add(supply_offer(id="b", quantity=9), available=4)
    assert len(offers) == 2 and "b" in offers
    entry = offers.get("b")
    assert entry is not None and entry.available == 4 and entry.listing.quantity == 9
    offers.take("b", 3)
    assert offers.get("b").available == 1  # type: ignore[union-attr]
    offers.take("b", 1)
    assert "b" not in offers and offers.get("b") is None
    offers.discard("a")
    offers.discard("never-there")
    assert len(offers) == 0 and list(offers) == []
    assert propose_for(supply_request(), offers, TODAY) == []


def test_reopening_a_listing_replaces_it() -> None:
    offers = OpenListings([supply_offer(id="a", quantity=5)])
    offers.add(supply_offer(id="a", quantity=7, lat=north_of(100)))
    assert [e.available for e in offers] == [7]
    assert propose_for(supply_request(), offers, TODAY) == []  # it moved out of reach


def test_the_index_grows_past_its_first_allocation() -> None:
    offers = OpenListings()
    for i in range(300):
        offers.add(supply_offer(id=f"o{i}", quantity=1, lat=north_of(i / 100)))
        if i % 7 == 0:
            propose_for(supply_request(), offers, TODAY)  # shelves what is queued
    proposals = propose_for(supply_request(quantity=500), offers, TODAY)
    assert len(proposals) == 300 and proposals[0].offer_id == "o0"


def test_solve_greedy_posts_offers_then_requests() -> None:
    problem = Problem(
        TODAY,
        (supply_offer(id="o", quantity=10),),
        (supply_request(id="low", urgency="low"), supply_request(id="crit", urgency="critical")),
    )
    assert solve_greedy(problem).allocations == (Allocation("o", "low", 10),)
    assert solve_optimal(problem).allocations == (Allocation("o", "crit", 10),)


def test_explain_an_allocation_directly() -> None:
    explanation = explain(staff_offer(), staff_request(), 5, TODAY)
    assert explanation["overlap_hours"] == 5 and explanation["days_to_expiry"] is None
    assert explanation["factors"] == {"U": 4, "D": 1.0, "E": 1.0, "value_per_unit": 4.0}
    assert explanation["alternatives"] == []


def test_explain_solution_covers_every_allocation() -> None:
    problem = Problem(
        TODAY,
        (supply_offer(id="near", quantity=10), supply_offer(id="far", lat=north_of(12))),
        (supply_request(id="crit", urgency="critical", quantity=10),
         supply_request(id="low", urgency="low", quantity=5)),
    )  # fmt: skip
    solution = solve_optimal(problem)
    explanations = explain_solution(problem, solution)
    assert [(e["offer"], e["request"]) for e in explanations] == [
        (a.offer, a.request) for a in solution.allocations
    ]
    by_pair = {(e["offer"], e["request"]): e for e in explanations}
    low = by_pair[("far", "low")]
    assert low["alternatives"] == [
        {"offer": "near", "value_per_unit": 1.0, "distance_km": 0.0, "reason": "no capacity left"}
    ]
    json.dumps(explanations)


@pytest.mark.parametrize("solve", [solve_optimal, solve_greedy])
def test_empty_problems_have_empty_solutions(solve: object) -> None:
    assert solve(Problem(TODAY, (), ())) == Solution((), 0.0)  # type: ignore[operator]
