"""`python -m coalition.matching solve PROBLEM.json [--mode greedy|optimal]`.

`python -m coalition.matching generate --seed N --size LISTINGS [--spread metro|nyc] [-o FILE]`
writes a seeded random problem (see `coalition.matching.generate`).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from coalition.matching.generate import SPREADS, generate_problem
from coalition.matching.greedy import solve_greedy
from coalition.matching.model import ProblemError, Solution, parse_problem
from coalition.matching.optimize import solve_optimal

SOLVERS = {"optimal": solve_optimal, "greedy": solve_greedy}
INVALID_INPUT = 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "generate":
            _generate(args.seed, args.size, args.spread, args.output)
        else:
            _print(_solve(args.problem, args.mode).as_dict())
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return INVALID_INPUT
    return 0


def _print(output: dict[str, object]) -> None:
    """One JSON document on standard output."""
    json.dump(output, sys.stdout)
    sys.stdout.write("\n")


class InputError(Exception):
    """The problem file cannot be read, is not JSON, or is not a valid problem."""


def _parser() -> argparse.ArgumentParser:
    """Arguments: `solve` (problem file, mode) and `generate` (seed, size, spread, output)."""
    parser = argparse.ArgumentParser(prog="python -m coalition.matching", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    solve = commands.add_parser("solve", help="print the allocation for a problem file")
    solve.add_argument("problem", help="problem JSON (see MATCHING.md)")
    solve.add_argument("--mode", choices=sorted(SOLVERS), default="optimal")
    generate = commands.add_parser("generate", help="write a seeded random problem")
    generate.add_argument("--seed", type=int, required=True, help="the random seed")
    generate.add_argument(
        "--size", type=_positive, required=True, help="listings, half offers and half requests"
    )
    generate.add_argument("--spread", choices=SPREADS, default="metro")
    generate.add_argument("-o", "--output", help="file to write (default: standard output)")
    return parser


def _positive(text: str) -> int:
    """An integer of at least 2 (one offer and one request)."""
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if number < 2:
        raise argparse.ArgumentTypeError("must be at least 2")
    return number


def _generate(seed: int, size: int, spread: str, output: str | None) -> None:
    """Write the generated problem to `output`, or print it."""
    problem = generate_problem(size, seed, spread)
    if output is None:
        _print(problem)
        return
    try:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(problem) + "\n")
    except OSError as error:
        raise InputError(f"cannot write {output}: {error.strerror or error}") from None


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
