"""Matching benchmark: quality against the LP optimum, solve times, per-event latency.

Run `.venv/bin/python bench/matching.py` (about four minutes on 2 cores) or `--quick` (< 30 s).

The problems are those of `tests/data/matching/` (the contract's samples and a few generated
ones), then larger ones from `coalition.matching.generate` (seed 7): the "metro" spread keeps
the samples' density, the "nyc" spread packs everything into the city (a stress case).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# Import from the repository, and never let a file in bench/ (which is sys.path[0] when this
# runs as a script) shadow a module of the same name.
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]

import numpy as np  # noqa: E402

from coalition.matching import (  # noqa: E402
    Offer,
    OpenListings,
    Problem,
    parse_problem,
    propose_for,
    solve_greedy,
    solve_optimal,
)
from coalition.matching.candidates import EdgeArrays, candidate_edges  # noqa: E402
from coalition.matching.generate import generate_problem  # noqa: E402
from coalition.matching.optimize import build_network, category_networks  # noqa: E402

DATA = ROOT / "tests" / "data" / "matching"


def generated(listings: int, spread: str, seed: int = 7) -> Problem:
    """A parsed generated problem; spread "metro" keeps the samples' density, "nyc" packs."""
    return parse_problem(generate_problem(listings, seed, spread))


# ---------------------------------------------------------------- measurements


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    """Result and wall-clock seconds of one call."""
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def best_of(repeats: int, fn: Callable[[], Any]) -> tuple[Any, float]:
    """Result and the best wall-clock seconds of `repeats` calls."""
    runs = [timed(fn) for _ in range(repeats)]
    return runs[0][0], min(seconds for _, seconds in runs)


def lp_optimum(problem: Problem, edges: EdgeArrays) -> float:
    """The LP relaxation's optimum on the same pairs with SciPy's HiGHS (not OR-Tools)."""
    from scipy.optimize import linprog
    from scipy.sparse import coo_matrix, vstack

    n = len(edges)
    cols = np.arange(n)
    by_offer = coo_matrix((np.ones(n), (edges.offer, cols)), shape=(len(problem.offers), n))
    by_request = coo_matrix((np.ones(n), (edges.request, cols)), shape=(len(problem.requests), n))
    limits = [o.quantity for o in problem.offers] + [r.quantity for r in problem.requests]
    result = linprog(
        -edges.value,
        A_ub=vstack([by_offer, by_request]).tocsr(),
        b_ub=np.array(limits, dtype=np.float64),
        bounds=np.column_stack([np.zeros(n), edges.cap]),
        method="highs",
    )
    if result.status != 0:
        raise RuntimeError(f"linprog failed: {result.message}")
    return float(-result.fun)


def solver_seconds(problem: Problem) -> tuple[float, float]:
    """Raw OR-Tools time: the per-category calls solve_optimal makes, and one call on it all."""
    edges = candidate_edges(problem)
    offer_qty = np.array([o.quantity for o in problem.offers], dtype=np.int64)
    request_qty = np.array([r.quantity for r in problem.requests], dtype=np.int64)
    networks = [network for _, network in category_networks(edges, offer_qty, request_qty)]
    split = sum(timed(network.solve)[1] for network in networks)
    whole = build_network(edges, offer_qty, request_qty)
    return split, timed(whole.solve)[1]


@dataclass
class Row:
    """One line of the quality and speed table."""

    name: str
    listings: int
    edges: int
    reference: str
    optimal: float
    greedy: float
    full_s: float
    raw_s: float
    whole_s: float
    pairs_s: float
    greedy_s: float


def measure(name: str, problem: Problem, lp_limit: int, repeats: int) -> Row:
    """Quality of both modes against the LP optimum (or optimal) and the solve times."""
    optimal, full = best_of(repeats, lambda: solve_optimal(problem).as_dict())
    raw, whole = min(solver_seconds(problem) for _ in range(repeats))
    edges, pairs_s = best_of(repeats, lambda: candidate_edges(problem))
    greedy, greedy_s = timed(lambda: solve_greedy(problem).objective)
    listings = len(problem.offers) + len(problem.requests)
    reference, label = optimal["objective"], "optimal"
    if listings <= lp_limit:
        reference, label = lp_optimum(problem, edges), "LP"
    return Row(name, listings, len(edges), label, optimal["objective"] / reference,
               greedy / reference, full, raw, whole, pairs_s, greedy_s)  # fmt: skip


def print_rows(rows: list[Row]) -> None:
    """The quality and speed table."""
    print(
        f"{'problem':<17}{'listings':>9}{'edges':>10}{'vs':>8}{'optimal':>10}{'greedy':>8}"
        f"{'full s':>8}{'raw s':>8}{'ratio':>7}{'1-call s':>9}{'pairs s':>8}{'greedy s':>9}"
    )
    for r in rows:
        print(
            f"{r.name:<17}{r.listings:>9}{r.edges:>10}{r.reference:>8}{r.optimal:>10.5%}"
            f"{r.greedy:>8.1%}{r.full_s:>8.3f}{r.raw_s:>8.3f}{r.full_s / max(r.raw_s, 1e-9):>7.2f}"
            f"{r.whole_s:>9.3f}{r.pairs_s:>8.3f}{r.greedy_s:>9.2f}"
        )
    print(
        "full = solve_optimal + JSON (pairs, flows, output); raw = the OR-Tools solve() calls it"
        " makes, one per category; ratio = full / raw; 1-call = one solve() on the whole graph"
    )
    print("optimal/greedy = objective / reference (LP: SciPy HiGHS on the same pairs)")  # fmt: skip


def event_latency(open_listings: int, events: int, spread: str) -> tuple[float, float, float]:
    """p50, p95 and max ms of `propose_for` for new listings against `open_listings` open ones."""
    problem = generated(open_listings + events, spread, seed=11)
    half = open_listings // 2
    open_offers, open_requests = (
        OpenListings(problem.offers[:half]),
        OpenListings(problem.requests[:half]),
    )
    arrivals = [*problem.offers[half:], *problem.requests[half:]]
    samples = []
    for listing in arrivals:
        counterparts = open_requests if isinstance(listing, Offer) else open_offers
        start = time.perf_counter()
        propose_for(listing, counterparts, problem.today)
        samples.append((time.perf_counter() - start) * 1000)
    cuts = statistics.quantiles(samples, n=100)
    return cuts[49], cuts[94], max(samples)


def sample_problems() -> Iterator[tuple[str, Problem]]:
    """The problems checked in under tests/data/matching."""
    for path in sorted(DATA.glob("*.json")):
        if path.name != "optima.json":
            yield path.stem, parse_problem(json.loads(path.read_text()))


def main(argv: list[str] | None = None) -> None:
    """Print the tables."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, under 30 s")
    quick = parser.parse_args(argv).quick
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    sizes = [(1_000, "metro"), (10_000, "metro")]
    if not quick:
        sizes += [(20_000, "metro"), (20_000, "nyc"), (100_000, "metro")]
    rows = [measure(name, p, 12_000, 1 if quick else 3) for name, p in sample_problems()]
    for listings, spread in sizes:
        problem = generated(listings, spread)
        repeats = 1 if quick or listings > 20_000 else 3
        rows.append(measure(f"{spread}-{listings // 1000}k", problem, 12_000, repeats))
    print_rows(rows)
    open_count = 20_000 if quick else 100_000
    for spread in ("metro", "nyc"):
        p50, p95, worst = event_latency(open_count, 500, spread)
        print(f"propose_for with {open_count:,} open listings ({spread}), 500 new listings: "
              f"p50 {p50:.2f} ms, p95 {p95:.2f} ms, max {worst:.2f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
