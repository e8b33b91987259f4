"""Every shared sample solves to its published optimum; both modes give feasible answers."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import pytest

from coalition.matching import candidate_pairs, parse_problem, solve_greedy, solve_optimal

from . import reference

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "contracts" / "samples"
IN_CI = os.environ.get("CI", "").lower() == "true"


def _sample_names() -> list[str]:
    """Sample names from optima.json; skip (fail in CI) when the shared folder is missing."""
    optima = SAMPLES / "optima.json"
    if optima.exists():
        return sorted(json.loads(optima.read_text()))
    if IN_CI:
        raise RuntimeError(f"CI=true but {optima} is missing: put shared/ beside the repository")
    return []


NAMES = _sample_names()
needs_samples = pytest.mark.skipif(
    not NAMES, reason=f"shared samples not found at {SAMPLES} (they sit beside the repository)"
)


def _load(name: str) -> dict[str, Any]:
    """A sample problem as JSON."""
    return json.loads((SAMPLES / f"{name}.json").read_text())


def _optimum(name: str) -> float:
    """The published optimum of a sample."""
    return float(json.loads((SAMPLES / "optima.json").read_text())[name])


@needs_samples
def test_every_sample_has_a_problem_file() -> None:
    assert NAMES
    assert all((SAMPLES / f"{name}.json").exists() for name in NAMES)


@needs_samples
@pytest.mark.parametrize("name", NAMES)
def test_optimal_matches_the_published_optimum(name: str) -> None:
    raw = _load(name)
    output = solve_optimal(parse_problem(raw)).as_dict()
    assert math.isclose(output["objective"], _optimum(name), rel_tol=1e-6)
    assert math.isclose(reference.check_feasible(raw, output), _optimum(name), rel_tol=1e-6)


@needs_samples
@pytest.mark.parametrize("name", NAMES)
def test_greedy_is_feasible_and_no_better_than_optimal(name: str) -> None:
    raw = _load(name)
    output = solve_greedy(parse_problem(raw)).as_dict()
    objective = reference.check_feasible(raw, output)
    assert 0 < objective <= _optimum(name) * (1 + 1e-9)


@needs_samples
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
