"""The per-event greedy proposer, and the whole-problem greedy it implies.

Per event (a listing posted or changed), the worker calls::

    propose_for(listing, open_counterparts, today, remaining=None) -> list[Proposal]

- `listing`: the new or changed `Offer` or `Request`;
- `open_counterparts`: an `OpenListings` of the other side (open requests for an offer,
  open offers for a request), each entry with the quantity it still has available;
- `today`: the day the values are computed for (expiry factor, need-by dates);
- `remaining`: what the listing itself still has available (default, and at most, its
  quantity).

It weighs every counterpart of the same kind and category within the listing's own radius
(plus remote staffing counterparts), and takes the eligible ones best value per unit first,
each up to min(its availability, the pair's cap, what the listing has left). Nothing is
changed: the caller records the proposals and reserves the quantities (for example with
`open_counterparts.take(id, quantity)`). The listing's existing matches are not known here, so
a changed listing should be passed with `remaining` net of what it already has matched, and
counterparts it is already matched with left out of `open_counterparts`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from coalition.matching.explain import ALTERNATIVES, alternatives_for, explain
from coalition.matching.index import OpenListings, Weighed
from coalition.matching.model import Allocation, Listing, Offer, Problem, Solution, pair_of


@dataclass(frozen=True, slots=True)
class Proposal:
    """A proposed transfer; `value` is per unit and `explanation` is JSON-ready."""

    offer_id: str
    request_id: str
    quantity: int
    value: float
    explanation: dict[str, Any]


def propose_for(
    listing: Listing,
    open_counterparts: OpenListings,
    today: date,
    remaining: int | None = None,
    alternatives: int = ALTERNATIVES,
) -> list[Proposal]:
    """Greedy proposals for one new or changed listing (see the module docstring)."""
    weighed = open_counterparts.weigh(listing, today, remaining)
    taken = weighed.take()
    chosen = {weighed.counterpart(position).id for position, _ in taken}
    return [_proposal(weighed, p, quantity, chosen, alternatives) for p, quantity in taken]


def _proposal(
    weighed: Weighed, position: int, quantity: int, chosen: set[str], limit: int
) -> Proposal:
    """A `Proposal`, explained with the best counterparts that were not chosen."""
    offer, request = pair_of(weighed.listing, weighed.counterpart(position))
    value = float(weighed.value[position])
    passed = alternatives_for(weighed, chosen, value, limit) if limit else []
    explanation = explain(offer, request, quantity, weighed.today, passed)
    return Proposal(offer.id, request.id, quantity, value, explanation)


def solve_greedy(problem: Problem) -> Solution:
    """What the per-event proposer yields when the listings are posted one by one in file
    order (offers first, then requests), each proposal reserving its quantities."""
    market = _Market(problem.today)
    for listing in (*problem.offers, *problem.requests):
        market.post(listing)
    return Solution(tuple(market.allocations), market.objective)


class _Market:
    """Open offers and requests, and the allocations proposed so far."""

    def __init__(self, today: date) -> None:
        self.today = today
        self.open_offers = OpenListings()
        self.open_requests = OpenListings()
        self.allocations: list[Allocation] = []
        self.objective = 0.0

    def post(self, listing: Listing) -> None:
        """Propose for a new listing, reserve what it takes, and open what it has left."""
        mine, theirs = self.open_offers, self.open_requests
        if not isinstance(listing, Offer):
            mine, theirs = theirs, mine
        weighed = theirs.weigh(listing, self.today)
        left = listing.quantity
        for position, quantity in weighed.take():
            counterpart = weighed.counterpart(position)
            theirs.take(counterpart.id, quantity)
            offer, request = pair_of(listing, counterpart)
            self.allocations.append(Allocation(offer.id, request.id, quantity))
            self.objective += quantity * float(weighed.value[position])
            left -= quantity
        if left > 0:
            mine.add(listing, left)
