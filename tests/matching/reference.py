"""An independent reading of MATCHING.md for the tests: eligibility, value, feasibility, LP.

It works on the raw JSON dicts and shares no code with `coalition.matching`, so the engine
is checked against a second implementation rather than against itself.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import date, datetime
from typing import Any

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import coo_matrix, vstack

Listing = dict[str, Any]
WEIGHT = {"critical": 8, "high": 4, "normal": 2, "low": 1}
RADIUS = 6371.0088


def distance(a: Listing, b: Listing) -> float:
    """Haversine distance in km, written with atan2."""
    phi1, phi2 = math.radians(a["lat"]), math.radians(b["lat"])
    dphi, dlam = phi2 - phi1, math.radians(b["lon"] - a["lon"])
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlam / 2) ** 2
    return 2 * RADIUS * math.atan2(math.sqrt(h), math.sqrt(max(0.0, 1 - h)))


def shared_hours(a: Listing, b: Listing) -> int:
    """Floor of the summed pairwise window intersections, in hours."""
    seconds = 0.0
    for s1, e1 in a.get("windows") or []:
        for s2, e2 in b.get("windows") or []:
            start = max(datetime.fromisoformat(s1), datetime.fromisoformat(s2))
            end = min(datetime.fromisoformat(e1), datetime.fromisoformat(e2))
            seconds += max(0.0, (end - start).total_seconds())
    return int(seconds // 3600)


def remote(o: Listing, r: Listing) -> bool:
    """Both sides of a staffing pair accept remote work."""
    return o["kind"] == "staffing" and bool(o.get("remote_ok")) and bool(r.get("remote_ok"))


def eligible(o: Listing, r: Listing, today: str) -> bool:
    """Rules 1-4 of MATCHING.md."""
    if (o["kind"], o["category"]) != (r["kind"], r["category"]) or o["org"] == r["org"]:
        return False
    if not remote(o, r) and distance(o, r) > min(o["max_distance_km"], r["max_distance_km"]):
        return False
    if o["kind"] == "supply":
        expires = o.get("expires_on")
        if expires is None or r.get("accepts_expired"):
            return True
        return expires >= max(today, r.get("need_by") or today)  # ISO dates sort as text
    if not set(r.get("credentials") or []) <= set(o.get("credentials") or []):
        return False
    wanted = set(r.get("languages") or [])
    if wanted and not wanted & set(o.get("languages") or []):
        return False
    return shared_hours(o, r) >= 1


def value(o: Listing, r: Listing, today: str) -> float:
    """U * D * E of one unit."""
    d_factor = 1.0
    if not remote(o, r):
        d_factor = 1 - distance(o, r) / (2 * min(o["max_distance_km"], r["max_distance_km"]))
    e_factor = 1.0
    if o["kind"] == "supply" and o.get("expires_on") is not None:
        days = (date.fromisoformat(o["expires_on"]) - date.fromisoformat(today)).days
        e_factor = 1.5 if days <= 60 else 1.0
    return WEIGHT[r["urgency"]] * d_factor * e_factor


def cap(o: Listing, r: Listing) -> int:
    """Most units the pair can carry."""
    most = min(o["quantity"], r["quantity"])
    return min(most, shared_hours(o, r)) if o["kind"] == "staffing" else most


def pairs(problem: dict[str, Any]) -> list[tuple[int, int, float, int]]:
    """Every eligible (offer index, request index, value, cap), by brute force."""
    today = problem["today"]
    return [
        (i, j, value(o, r, today), cap(o, r))
        for i, o in enumerate(problem["offers"])
        for j, r in enumerate(problem["requests"])
        if eligible(o, r, today)
    ]


def lp_optimum(problem: dict[str, Any]) -> float:
    """The optimum of the LP relaxation (integral for this problem) with SciPy's HiGHS."""
    found = pairs(problem)
    if not found:
        return 0.0
    n = len(found)
    cols = np.arange(n)
    rows_o = np.array([p[0] for p in found])
    rows_r = np.array([p[1] for p in found])
    n_o, n_r = len(problem["offers"]), len(problem["requests"])
    a_ub = vstack(
        [
            coo_matrix((np.ones(n), (rows_o, cols)), shape=(n_o, n)),
            coo_matrix((np.ones(n), (rows_r, cols)), shape=(n_r, n)),
        ]
    ).tocsr()
    b_ub = [o["quantity"] for o in problem["offers"]] + [r["quantity"] for r in problem["requests"]]
    result = linprog(
        -np.array([p[2] for p in found]),
        A_ub=a_ub,
        b_ub=np.array(b_ub, dtype=float),
        bounds=[(0, p[3]) for p in found],
        method="highs",
    )
    assert result.status == 0, result.message
    return float(-result.fun)


def check_feasible(problem: dict[str, Any], output: dict[str, Any]) -> float:
    """Assert the output obeys every constraint; return its objective recomputed here."""
    offers = {o["id"]: o for o in problem["offers"]}
    requests = {r["id"]: r for r in problem["requests"]}
    today = problem["today"]
    used_o: Counter[str] = Counter()
    used_r: Counter[str] = Counter()
    seen: set[tuple[str, str]] = set()
    total = 0.0
    for a in output["allocations"]:
        o, r, q = offers[a["offer"]], requests[a["request"]], a["quantity"]
        assert isinstance(q, int) and not isinstance(q, bool) and q > 0, a
        assert (o["id"], r["id"]) not in seen, f"pair listed twice: {a}"
        seen.add((o["id"], r["id"]))
        assert eligible(o, r, today), f"ineligible pair: {a}"
        assert q <= cap(o, r), f"over the pair's cap {cap(o, r)}: {a}"
        used_o[o["id"]] += q
        used_r[r["id"]] += q
        total += q * value(o, r, today)
    for lid, q in used_o.items():
        assert q <= offers[lid]["quantity"], f"offer {lid} over-allocated: {q}"
    for lid, q in used_r.items():
        assert q <= requests[lid]["quantity"], f"request {lid} over-filled: {q}"
    assert math.isclose(output["objective"], total, rel_tol=1e-9, abs_tol=1e-6)
    return total
