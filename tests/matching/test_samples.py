"""Every checked-in problem solves to its reference optimum; both modes give feasible answers."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from coalition.matching import candidate_pairs, parse_problem, solve_greedy, solve_optimal

from . import reference
from .make_data import DATA, GENERATED, OPTIMA, generated_text, problem_paths

NAMES = sorted(json.loads(OPTIMA.read_text()))


def _load(name: str) -> dict[str, Any]:
    """A checked-in problem as JSON."""
    return json.loads((DATA / f"{name}.json").read_text())


def _optimum(name: str) -> float:
    """The reference optimum of a problem, as checked in."""
    return float(json.loads(OPTIMA.read_text())[name])


def test_every_problem_file_has_an_optimum_and_every_optimum_a_file() -> None:
    assert [p.stem for p in problem_paths()] == NAMES
    assert {"edge-cases", "small-50", "large-1500"} | GENERATED.keys() <= set(NAMES)


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_problems_are_what_the_seeded_generator_makes(name: str) -> None:
    assert (DATA / f"{name}.json").read_text() == generated_text(GENERATED[name])


@pytest.mark.parametrize("name", NAMES)
def test_checked_in_optima_are_the_lp_references(name: str) -> None:
    assert round(reference.lp_optimum(_load(name)), 6) == _optimum(name)


@pytest.mark.parametrize("name", NAMES)
def test_optimal_matches_the_published_optimum(name: str) -> None:
    raw = _load(name)
    output = solve_optimal(parse_problem(raw)).as_dict()
    assert math.isclose(output["objective"], _optimum(name), rel_tol=1e-6)
    assert math.isclose(reference.check_feasible(raw, output), _optimum(name), rel_tol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_greedy_is_feasible_and_no_better_than_optimal(name: str) -> None:
    raw = _load(name)
    output = solve_greedy(parse_problem(raw)).as_dict()
    objective = reference.check_feasible(raw, output)
    assert 0 < objective <= _optimum(name) * (1 + 1e-9)


@pytest.mark.parametrize("name", NAMES)
def test_candidate_pairs_match_brute_force(name: str) -> None:
    raw = _load(name)
    found = {(e.offer, e.request): (e.value, e.cap) for e in candidate_pairs(parse_problem(raw))}
    expected = {(i, j): (v, c) for i, j, v, c in reference.pairs(raw)}
    assert found.keys() == expected.keys()
    for key, (v, c) in expected.items():
        assert math.isclose(found[key][0], v, rel_tol=1e-9) and found[key][1] == c


WORKED_EXAMPLE = {
    "today": "2026-11-26",
    "offers": [
        {"id": "o1", "org": "A", "kind": "supply", "category": "naloxone-nasal-4mg",
         "quantity": 120, "lat": 40.8116, "lon": -73.9465, "max_distance_km": 50,
         "expires_on": "2027-01-10"},
        {"id": "o2", "org": "C", "kind": "staffing", "category": "prescriber",
         "quantity": 16, "lat": 40.71, "lon": -74.00, "max_distance_km": 25,
         "credentials": ["dea-registration", "ny-license"], "languages": ["en", "es"],
         "remote_ok": True,
         "windows": [["2026-12-01T09:00:00+00:00", "2026-12-01T17:00:00+00:00"]]},
    ],
    "requests": [
        {"id": "r1", "org": "B", "kind": "supply", "category": "naloxone-nasal-4mg",
         "quantity": 40, "urgency": "high", "lat": 40.68, "lon": -73.94,
         "max_distance_km": 30, "need_by": "2026-12-05", "accepts_expired": False},
        {"id": "r2", "org": "B", "kind": "staffing", "category": "prescriber",
         "quantity": 6, "urgency": "critical", "lat": 40.68, "lon": -73.94,
         "max_distance_km": 10, "credentials": ["dea-registration"], "languages": ["es"],
         "remote_ok": True,
         "windows": [["2026-12-01T12:00:00+00:00", "2026-12-01T20:00:00+00:00"]]},
    ],
}  # fmt: skip


@pytest.mark.parametrize("solve", [solve_optimal, solve_greedy])
def test_worked_example_of_the_contract(solve: Any) -> None:
    output = solve(parse_problem(WORKED_EXAMPLE)).as_dict()
    assert round(output["objective"], 3) == 221.426
    assert sorted(output["allocations"], key=lambda a: a["offer"]) == [
        {"offer": "o1", "request": "r1", "quantity": 40},
        {"offer": "o2", "request": "r2", "quantity": 5},
    ]
