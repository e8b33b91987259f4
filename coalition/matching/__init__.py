"""Pure matching engine: eligibility, value, greedy proposals and the min-cost-flow optimum.

No Flask, SQLAlchemy or kombu here; the services turn rows into these dataclasses and back.
The problem and objective are those of `docs/MATCHING.md`.
"""

from coalition.matching.candidates import Edge, candidate_pairs
from coalition.matching.eligibility import (
    ineligibility_reason,
    is_eligible,
    overlap_hours,
    pair_cap,
)
from coalition.matching.explain import (
    Alternative,
    explain,
    explain_allocations,
    explain_solution,
)
from coalition.matching.greedy import Proposal, propose_for, solve_greedy
from coalition.matching.index import OpenEntry, OpenListings, Weighed
from coalition.matching.model import (
    Allocation,
    Offer,
    Problem,
    ProblemError,
    Request,
    Solution,
    parse_offer,
    parse_problem,
    parse_request,
)
from coalition.matching.optimize import solve_optimal
from coalition.matching.value import ValueFactors, pair_value, value_factors

__all__ = [
    "Allocation",
    "Alternative",
    "Edge",
    "Offer",
    "OpenEntry",
    "OpenListings",
    "Problem",
    "ProblemError",
    "Proposal",
    "Request",
    "Solution",
    "ValueFactors",
    "Weighed",
    "candidate_pairs",
    "explain",
    "explain_allocations",
    "explain_solution",
    "ineligibility_reason",
    "is_eligible",
    "overlap_hours",
    "pair_cap",
    "pair_value",
    "parse_offer",
    "parse_problem",
    "parse_request",
    "propose_for",
    "solve_greedy",
    "solve_optimal",
    "value_factors",
]
