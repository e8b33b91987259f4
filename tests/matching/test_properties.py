"""Random small problems: the engine against the independent reference and SciPy's LP."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coalition.matching import (
    OpenListings,
    candidate_pairs,
    ineligibility_reason,
    parse_problem,
    propose_for,
    solve_greedy,
    solve_optimal,
)
from coalition.matching.model import pair_of

from . import reference

TODAY = date(2026, 11, 26)
START = datetime(2026, 11, 27, tzinfo=UTC)
PROPERTY = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@st.composite
def windows(draw: st.DrawFn) -> list[list[str]]:
    """Up to three windows over three days, on quarter hours, 15 min to 10 h long."""
    found = []
    for _ in range(draw(st.integers(0, 3))):
        start = START + timedelta(minutes=15 * draw(st.integers(0, 288)))
        end = start + timedelta(minutes=15 * draw(st.integers(1, 40)))
        found.append([start.isoformat(), end.isoformat()])
    return found


def day(draw: st.DrawFn, low: int, high: int) -> str | None:
    """None or a date between today + low and today + high."""
    offset = draw(st.one_of(st.none(), st.integers(low, high)))
    return None if offset is None else (TODAY + timedelta(days=offset)).isoformat()


@st.composite
def listing(draw: st.DrawFn, lid: str, offer: bool) -> dict[str, Any]:
    """An offer or request in a 25 km square, with radii around the distances involved."""
    kind = draw(st.sampled_from(["supply", "staffing"]))
    item: dict[str, Any] = {
        "id": lid,
        "org": draw(st.sampled_from("ABC")),
        "kind": kind,
        "category": draw(st.sampled_from("xy")),
        "quantity": draw(st.integers(1, 30)),
        "lat": draw(st.floats(40.6, 40.8)),
        "lon": draw(st.floats(-74.0, -73.8)),
        "max_distance_km": draw(st.sampled_from([2, 5, 10, 30, 7.5])),
    }
    if not offer:
        item["urgency"] = draw(st.sampled_from(["critical", "high", "normal", "low"]))
    if kind == "staffing":
        item["credentials"] = draw(st.lists(st.sampled_from("abc"), max_size=2, unique=True))
        item["languages"] = draw(st.lists(st.sampled_from(["en", "es"]), max_size=2, unique=True))
        item["remote_ok"] = draw(st.booleans())
        item["windows"] = draw(windows())
    elif offer:
        item["expires_on"] = day(draw, -10, 90)
    else:
        item["need_by"] = day(draw, -5, 30)
        item["accepts_expired"] = draw(st.booleans())
    return item


@st.composite
def problems(draw: st.DrawFn) -> dict[str, Any]:
    """A problem with up to 8 offers and 8 requests."""
    n_offers, n_requests = draw(st.integers(0, 8)), draw(st.integers(0, 8))
    return {
        "today": TODAY.isoformat(),
        "offers": [draw(listing(f"o{i}", True)) for i in range(n_offers)],
        "requests": [draw(listing(f"r{i}", False)) for i in range(n_requests)],
    }


@PROPERTY
@given(problems())
def test_optimal_equals_the_lp_optimum_and_greedy_stays_below(raw: dict[str, Any]) -> None:
    problem = parse_problem(raw)
    optimal = solve_optimal(problem).as_dict()
    greedy = solve_greedy(problem).as_dict()
    best = reference.lp_optimum(raw)
    assert math.isclose(reference.check_feasible(raw, optimal), best, rel_tol=1e-6, abs_tol=1e-6)
    assert reference.check_feasible(raw, greedy) <= best + 1e-6


@PROPERTY
@given(problems())
def test_candidate_pairs_agree_with_the_reference(raw: dict[str, Any]) -> None:
    found = {(e.offer, e.request): (e.value, e.cap) for e in candidate_pairs(parse_problem(raw))}
    expected = {(i, j): (v, c) for i, j, v, c in reference.pairs(raw) if c > 0}
    assert found.keys() == expected.keys()
    for key, (v, c) in expected.items():
        assert math.isclose(found[key][0], v, rel_tol=1e-9) and found[key][1] == c


@PROPERTY
@given(problems())
def test_per_event_weighing_agrees_with_the_reference(raw: dict[str, Any]) -> None:
    problem = parse_problem(raw)
    raw_offers = {item["id"]: item for item in raw["offers"]}
    open_offers = OpenListings(problem.offers)
    for request, raw_request in zip(problem.requests, raw["requests"], strict=True):
        weighed = open_offers.weigh(request, problem.today)
        found = {
            weighed.counterpart(p).id: int(weighed.cap[p])
            for p in range(len(weighed))
            if weighed.eligible[p]
        }
        expected = {
            o["id"]: reference.cap(o, raw_request)
            for o in raw["offers"]
            if reference.eligible(o, raw_request, raw["today"])
        }
        assert found == expected
        for p in range(len(weighed)):
            offer, _ = pair_of(request, weighed.counterpart(p))
            says_ok = ineligibility_reason(offer, request, problem.today) is None
            assert says_ok == reference.eligible(raw_offers[offer.id], raw_request, raw["today"])
            assert (weighed.reason(p) is None) == says_ok


@PROPERTY
@given(problems(), st.integers(0, 30))
def test_a_proposal_takes_the_best_value_first_within_capacity(
    raw: dict[str, Any], remaining: int
) -> None:
    problem = parse_problem(raw)
    open_requests = OpenListings(problem.requests)
    for offer, raw_offer in zip(problem.offers, raw["offers"], strict=True):
        proposals = propose_for(offer, open_requests, problem.today, remaining)
        requests = {r["id"]: r for r in raw["requests"]}
        taken = {p.request_id: p.quantity for p in proposals}
        left = min(remaining, offer.quantity)  # never more than the listing has
        assert sum(taken.values()) <= left
        for p in proposals:
            assert 0 < p.quantity <= reference.cap(raw_offer, requests[p.request_id])
            assert math.isclose(p.value, reference.value(raw_offer, requests[p.request_id],
                                                         raw["today"]), rel_tol=1e-9)  # fmt: skip
        values = [p.value for p in proposals]
        assert values == sorted(values, reverse=True)
        left_out = [
            reference.value(raw_offer, r, raw["today"])
            for r in raw["requests"]
            if reference.eligible(raw_offer, r, raw["today"])
            and taken.get(r["id"], 0) < reference.cap(raw_offer, r)
        ]
        if sum(taken.values()) < left:  # it stopped early: nothing eligible was left
            assert not left_out
        elif proposals and left_out:  # it filled up: nothing better was passed over
            assert max(left_out) <= min(values) + 1e-12
