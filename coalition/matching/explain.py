"""Why a pair was proposed: its value factors and the best alternatives passed over."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from itertools import islice
from typing import Any, Final

from coalition.matching.eligibility import overlap_hours
from coalition.matching.index import OpenListings, Weighed
from coalition.matching.model import Allocation, Offer, Problem, Request, Solution
from coalition.matching.value import value_factors

ALTERNATIVES: Final = 3


@dataclass(frozen=True, slots=True)
class Alternative:
    """A counterpart that was passed over, and why."""

    role: str  # "offer" or "request": what the passed-over listing is
    id: str
    value: float  # per unit, or what it would be if the pair were eligible
    distance_km: float
    reason: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, e.g. {"offer": "o7", "value_per_unit": 3.2, …, "reason": …}."""
        return {
            self.role: self.id,
            "value_per_unit": round(self.value, 4),
            "distance_km": round(self.distance_km, 2),
            "reason": self.reason,
        }


def passed_over(reason: str | None, cap: int, value: float, chosen_value: float) -> str:
    """Why a counterpart did not get (more of) an allocation worth `chosen_value` per unit."""
    if reason is not None:
        return reason
    if cap <= 0:
        return "no capacity left"
    if value < chosen_value:
        return f"lower value {value:.3f} < {chosen_value:.3f}"
    return f"same value {value:.3f} (tie)"


def alternatives_for(
    weighed: Weighed, chosen: set[str], chosen_value: float, limit: int = ALTERNATIVES
) -> list[Alternative]:
    """The best `limit` weighed counterparts that are not among the chosen ones."""
    others = (p for p in weighed.ranking().tolist() if weighed.counterpart(p).id not in chosen)
    return [_alternative(weighed, p, chosen_value) for p in islice(others, limit)]


def _alternative(weighed: Weighed, position: int, chosen_value: float) -> Alternative:
    """An `Alternative` for the counterpart at `position`."""
    listing = weighed.counterpart(position)
    value = float(weighed.value[position])
    why = passed_over(weighed.reason(position), int(weighed.cap[position]), value, chosen_value)
    role = "offer" if isinstance(listing, Offer) else "request"
    return Alternative(role, listing.id, value, float(weighed.distance[position]), why)


def explain(
    offer: Offer,
    request: Request,
    quantity: int,
    today: date,
    alternatives: Iterable[Alternative] = (),
) -> dict[str, Any]:
    """JSON-ready explanation of an allocation: what it is worth per unit and why."""
    factors = value_factors(offer, request, today)
    hours = overlap_hours(offer.windows, request.windows) if offer.kind == "staffing" else None
    return {
        "offer": offer.id,
        "request": request.id,
        "quantity": quantity,
        "kind": offer.kind,
        "category": offer.category,
        "urgency": request.urgency,
        "distance_km": round(factors.distance_km, 2),
        "remote": factors.remote,
        "days_to_expiry": factors.days_to_expiry,
        "overlap_hours": hours,
        "factors": {
            "U": factors.urgency_weight,
            "D": round(factors.distance_factor, 4),
            "E": factors.expiry_factor,
            "value_per_unit": round(factors.value, 4),
        },
        "value": round(quantity * factors.value, 4),
        "alternatives": [a.as_dict() for a in alternatives],
    }


def explain_solution(
    problem: Problem, solution: Solution, limit: int = ALTERNATIVES
) -> list[dict[str, Any]]:
    """An explanation for each allocation of a solution, in order, seen from the request.

    Alternatives are other offers for the same request: ineligible ones with the reason,
    eligible ones whose capacity the solution uses elsewhere, or ones of lower value.
    """
    every = range(len(solution.allocations))
    explained = explain_allocations(problem, solution, every, limit)
    return [explained[position] for position in every]


def explain_allocations(
    problem: Problem, solution: Solution, positions: Iterable[int], limit: int = ALTERNATIVES
) -> dict[int, dict[str, Any]]:
    """The explanations of the allocations at `positions` only (a re-solve explains just the
    proposals it adds), each as `explain_solution` gives it."""
    offers = {o.id: o for o in problem.offers}
    requests = {r.id: r for r in problem.requests}
    spare = _spare_offers(problem, solution.allocations)
    chosen: dict[str, set[str]] = defaultdict(set)
    for allocation in solution.allocations:
        chosen[allocation.request].add(allocation.offer)
    wanted = sorted(set(positions))
    weighed = {
        rid: spare.weigh(requests[rid], problem.today)
        for rid in {solution.allocations[p].request for p in wanted}
    }
    explained = {}
    for position in wanted:
        a = solution.allocations[position]
        offer, request = offers[a.offer], requests[a.request]
        value = value_factors(offer, request, problem.today).value
        passed = alternatives_for(weighed[a.request], chosen[a.request], value, limit)
        explained[position] = explain(offer, request, a.quantity, problem.today, passed)
    return explained


def _spare_offers(problem: Problem, allocations: Iterable[Allocation]) -> OpenListings:
    """Every offer, open with what the allocations leave of it (possibly nothing)."""
    used: dict[str, int] = defaultdict(int)
    for allocation in allocations:
        used[allocation.offer] += allocation.quantity
    spare = OpenListings()
    for offer in problem.offers:
        spare.add(offer, offer.quantity - used[offer.id])
    return spare
