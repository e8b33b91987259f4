"""`python -m coalition.matching solve PROBLEM.json [--mode greedy|optimal]`."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from coalition.matching.greedy import solve_greedy
from coalition.matching.model import ProblemError, Solution, parse_problem
from coalition.matching.optimize import solve_optimal

SOLVERS = {"optimal": solve_optimal, "greedy": solve_greedy}
INVALID_INPUT = 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = _parser().parse_args(argv)
    try:
        solution = _solve(args.problem, args.mode)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return INVALID_INPUT
    json.dump(solution.as_dict(), sys.stdout)
    sys.stdout.write("\n")
    return 0


class InputError(Exception):
    """The problem file cannot be read, is not JSON, or is not a valid problem."""


def _parser() -> argparse.ArgumentParser:
    """Arguments: the `solve` command, the problem file and the mode."""
    parser = argparse.ArgumentParser(prog="python -m coalition.matching", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    solve = commands.add_parser("solve", help="print the allocation for a problem file")
    solve.add_argument("problem", help="problem JSON (see MATCHING.md)")
    solve.add_argument("--mode", choices=sorted(SOLVERS), default="optimal")
    return parser


def _solve(path: str, mode: str) -> Solution:
    """Read, validate and solve the problem file."""
    try:
        with open(path, encoding="utf-8") as handle:
            raw = json.load(handle)
    except OSError as error:
        raise InputError(f"cannot read {path}: {error.strerror or error}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(f"{path} is not valid JSON: {error}") from None
    try:
        problem = parse_problem(raw)
    except ProblemError as error:
        raise InputError(error.describe()) from None
    return SOLVERS[mode](problem)


if __name__ == "__main__":
    sys.exit(main())
