"""Among equally good allocations the optimum keeps the standing pairs (re-solve churn)."""

from __future__ import annotations

from datetime import date

from coalition.matching import Problem, solve_optimal
from tests.matching.builders import supply_offer, supply_request

TODAY = date(2026, 12, 1)


def _twins() -> Problem:
    """Two identical offers for one request that either can fill alone."""
    return Problem(
        today=TODAY,
        offers=(supply_offer(id="a", quantity=40), supply_offer(id="b", quantity=40)),
        requests=(supply_request(id="r", quantity=40),),
    )


def _pairs(solution) -> set[tuple[str, str]]:
    return {(a.offer, a.request) for a in solution.allocations}


def test_a_tie_is_broken_toward_the_preferred_pair_whichever_it_is():
    problem = _twins()
    plain = solve_optimal(problem)
    for incumbent in ("a", "b"):
        kept = solve_optimal(problem, prefer={(incumbent, "r")})
        assert _pairs(kept) == {(incumbent, "r")}
        assert kept.objective == plain.objective, "the reported objective is the true value"


def test_a_strictly_better_allocation_still_wins_over_the_incumbent():
    problem = Problem(
        today=TODAY,
        offers=(
            supply_offer(id="near", quantity=40),
            supply_offer(id="far", quantity=40, lat=40.9),
        ),
        requests=(supply_request(id="r", quantity=40, max_distance_km=50),),
    )
    best = solve_optimal(problem)
    assert _pairs(best) == {("near", "r")}
    assert _pairs(solve_optimal(problem, prefer={("far", "r")})) == {("near", "r")}


def test_preferring_unknown_pairs_changes_nothing():
    problem = _twins()
    assert solve_optimal(problem, prefer={("zz", "r"), ("a", "zz")}) == solve_optimal(problem)
