"""Write the generated problems of tests/data/matching and the optimum of every problem there.

    .venv/bin/python -m tests.matching.make_data [--check]

The generated problems come from `coalition.matching.generate`; the optima come from the
independent reference (`tests.matching.reference`: brute-force pairs, SciPy's HiGHS), never
from the engine under test. `--check` writes nothing and exits 1 naming a stale file.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import NamedTuple

from coalition.matching.generate import generate_problem

from . import reference

DATA = Path(__file__).resolve().parents[1] / "data" / "matching"
OPTIMA = DATA / "optima.json"


class Recipe(NamedTuple):
    """The generator's arguments for one checked-in problem."""

    seed: int
    size: int
    spread: str


# The contract's samples (edge-cases, small-50, ...) are copied data; these are generated.
GENERATED = {
    "generated-1-400": Recipe(seed=1, size=400, spread="metro"),
    "generated-2-600-nyc": Recipe(seed=2, size=600, spread="nyc"),
}


def generated_text(recipe: Recipe) -> str:
    """The file content of a generated problem."""
    return json.dumps(generate_problem(recipe.size, recipe.seed, recipe.spread)) + "\n"


def problem_paths() -> list[Path]:
    """Every problem file, sorted by name."""
    return sorted(p for p in DATA.glob("*.json") if p != OPTIMA)


def optima_text() -> str:
    """optima.json as the reference computes it, rounded like the contract's (6 decimals)."""
    optima = {
        p.stem: round(reference.lp_optimum(json.loads(p.read_text())), 6) for p in problem_paths()
    }
    return json.dumps(optima, indent=1) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write (or with --check, compare) the generated problems, then the optima."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare only; write nothing")
    check = parser.parse_args(argv).check
    for name, recipe in GENERATED.items():
        if not _settle(DATA / f"{name}.json", generated_text(recipe), check):
            return 1
    return 0 if _settle(OPTIMA, optima_text(), check) else 1


def _settle(path: Path, text: str, check: bool) -> bool:
    """Write `text` to `path`, or with `check` report whether it already holds it."""
    if not check:
        path.write_text(text)
        print(f"wrote {path.relative_to(DATA.parents[2])}")
        return True
    if path.exists() and path.read_text() == text:
        return True
    print(f"stale: {path.relative_to(DATA.parents[2])} (run python -m tests.matching.make_data)")
    return False


if __name__ == "__main__":
    sys.exit(main())
