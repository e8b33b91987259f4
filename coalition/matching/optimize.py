"""The optimal allocation as a min-cost flow (OR-Tools `SimpleMinCostFlow`).

Network, one per (kind, category): source -> offer (capacity = quantity) -> request
(capacity = pair cap, cost = -round(value * SCALE)) -> sink (capacity = quantity), plus a
zero-cost source -> sink arc so that no unit has to move.

Costs must be integers. Rounding moves each unit's value by at most 0.5 / SCALE, so the
flow found is worse than the true optimum x by at most 0.5 / SCALE * (|x| + |found|) units
of value; every unit is worth at least 0.5, so that is at most 2 / SCALE of the optimum:
2e-7 with SCALE = 10**7 (larger scales only slow the cost-scaling solver down).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
from ortools.graph.python import min_cost_flow

from coalition.matching.candidates import EdgeArrays, candidate_edges
from coalition.matching.geo import IntArray
from coalition.matching.model import Allocation, Listing, Problem, Solution

SCALE: Final = 10**7
# A standing pair's units count this much more (relative) when a re-solve breaks ties: well
# above the rounding of SCALE, far below any margin worth replacing a proposal for.
INCUMBENT_BONUS: Final = 1e-6
SOURCE: Final = 0
SINK: Final = 1


class SolverError(RuntimeError):
    """OR-Tools did not report an optimal flow (it always should on these networks)."""


@dataclass(frozen=True, slots=True)
class FlowNetwork:
    """A built OR-Tools network and the arc numbers of the offer -> request arcs."""

    solver: min_cost_flow.SimpleMinCostFlow
    pair_arcs: IntArray

    def solve(self) -> None:
        """The raw solver call (timed on its own by the benchmark)."""
        status = self.solver.solve()
        if status != self.solver.OPTIMAL:
            raise SolverError(f"min-cost flow ended with status {status}")

    def flows(self) -> IntArray:
        """Units on each offer -> request arc, in edge order."""
        return np.asarray(self.solver.flows(self.pair_arcs.astype(np.int32)), dtype=np.int64)


def solve_optimal(problem: Problem, prefer: Collection[tuple[str, str]] = ()) -> Solution:
    """An allocation of maximum total value (MATCHING.md).

    `prefer` names (offer id, request id) pairs to keep among equally good allocations (a
    re-solve's standing proposals): their units weigh INCUMBENT_BONUS more in the solver's
    costs, so it moves them only for a strictly better allocation, giving up at most that
    fraction of the objective. The objective reported is always the true value.
    """
    edges = candidate_edges(problem)
    costed = _preferring(problem, edges, prefer) if prefer else edges
    flows = solve_edges(costed, _quantities(problem.offers), _quantities(problem.requests))
    return _solution(problem, edges, flows)


def _preferring(
    problem: Problem, edges: EdgeArrays, prefer: Collection[tuple[str, str]]
) -> EdgeArrays:
    """The edges with the preferred pairs' values raised by INCUMBENT_BONUS (for costs)."""
    offer_at = {o.id: i for i, o in enumerate(problem.offers)}
    request_at = {r.id: i for i, r in enumerate(problem.requests)}
    width = max(len(problem.requests), 1)
    keys = [
        offer_at[o] * width + request_at[r] for o, r in prefer if o in offer_at and r in request_at
    ]
    chosen = np.isin(edges.offer * width + edges.request, np.array(keys, dtype=np.int64))
    value = np.where(chosen, edges.value * (1.0 + INCUMBENT_BONUS), edges.value)
    return EdgeArrays(edges.offer, edges.request, value, edges.cap, edges.group)


def solve_edges(edges: EdgeArrays, offer_qty: IntArray, request_qty: IntArray) -> IntArray:
    """Optimal units on each edge; each category is solved as a network of its own."""
    flows = np.zeros(len(edges), dtype=np.int64)
    for positions, network in category_networks(edges, offer_qty, request_qty):
        network.solve()
        flows[positions] = network.flows()
    return flows


def category_networks(
    edges: EdgeArrays, offer_qty: IntArray, request_qty: IntArray
) -> Iterator[tuple[slice, FlowNetwork]]:
    """One network per (kind, category), with the edge positions it covers.

    Categories share no listing, and several small networks solve several times faster
    than one large one.
    """
    bounds = np.flatnonzero(np.diff(edges.group)) + 1
    starts, stops = [0, *bounds.tolist()], [*bounds.tolist(), len(edges)]
    for start, stop in zip(starts, stops, strict=True):
        if stop > start:
            yield (
                slice(start, stop),
                _local_network(edges.subset(slice(start, stop)), offer_qty, request_qty),
            )


def _local_network(edges: EdgeArrays, offer_qty: IntArray, request_qty: IntArray) -> FlowNetwork:
    """A network over just the offers and requests these edges touch."""
    offers, offer_at = np.unique(edges.offer, return_inverse=True)
    requests, request_at = np.unique(edges.request, return_inverse=True)
    local = EdgeArrays(offer_at, request_at, edges.value, edges.cap, edges.group)
    return build_network(local, offer_qty[offers], request_qty[requests])


def build_network(edges: EdgeArrays, offer_qty: IntArray, request_qty: IntArray) -> FlowNetwork:
    """The flow network for the given eligible pairs and listing quantities."""
    n_offers = len(offer_qty)
    offer_nodes = 2 + np.arange(n_offers, dtype=np.int64)
    request_nodes = 2 + n_offers + np.arange(len(request_qty), dtype=np.int64)
    total = int(offer_qty.sum())
    tails = np.concatenate([[SOURCE], np.full(n_offers, SOURCE), 2 + edges.offer, request_nodes])
    sinks = np.full(len(request_qty), SINK)
    heads = np.concatenate([[SINK], offer_nodes, 2 + n_offers + edges.request, sinks])
    caps = np.concatenate([[total], offer_qty, edges.cap, request_qty])
    costs = np.zeros(len(tails), dtype=np.int64)
    first_pair = 1 + n_offers
    costs[first_pair : first_pair + len(edges)] = -np.rint(edges.value * SCALE).astype(np.int64)
    solver = min_cost_flow.SimpleMinCostFlow()
    solver.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32), heads.astype(np.int32), caps.astype(np.int64), costs
    )
    solver.set_nodes_supplies(np.array([SOURCE, SINK], dtype=np.int32), np.array([total, -total]))
    return FlowNetwork(solver, first_pair + np.arange(len(edges), dtype=np.int64))


def _quantities(listings: Sequence[Listing]) -> IntArray:
    """Quantities of offers or requests as an array."""
    return np.array([item.quantity for item in listings], dtype=np.int64)


def _solution(problem: Problem, edges: EdgeArrays, flows: IntArray) -> Solution:
    """Allocations for the arcs that carry flow, and their total value."""
    used = np.flatnonzero(flows > 0)
    offers, requests = problem.offers, problem.requests
    pairs = zip(edges.offer[used].tolist(), edges.request[used].tolist(), strict=True)
    allocations = tuple(
        Allocation(offers[o].id, requests[r].id, q)
        for (o, r), q in zip(pairs, flows[used].tolist(), strict=True)
    )
    objective = float(np.dot(flows[used].astype(np.float64), edges.value[used]))
    return Solution(allocations, objective)
