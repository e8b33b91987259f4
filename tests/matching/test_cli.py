"""`python -m coalition.matching solve PROBLEM.json [--mode ...]` and `generate --seed N ...`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .make_data import DATA, GENERATED
from .test_samples import WORKED_EXAMPLE

REPO = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the command line from the repository root."""
    return subprocess.run(
        [sys.executable, "-m", "coalition.matching", *args],
        cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def write(tmp_path: Path, content: Any) -> str:
    """A problem file holding `content` (JSON-encoded unless it is text)."""
    path = tmp_path / "problem.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


@pytest.mark.parametrize("mode", [[], ["--mode", "optimal"], ["--mode", "greedy"]])
def test_solve_prints_the_allocation(tmp_path: Path, mode: list[str]) -> None:
    result = run("solve", write(tmp_path, WORKED_EXAMPLE), *mode)
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["objective"] == 221.425943
    assert {(a["offer"], a["request"], a["quantity"]) for a in output["allocations"]} == {
        ("o1", "r1", 40),
        ("o2", "r2", 5),
    }
    assert result.stderr == ""


def test_invalid_listing_exits_naming_listing_and_field(tmp_path: Path) -> None:
    bad = json.loads(json.dumps(WORKED_EXAMPLE))
    bad["requests"][1]["quantity"] = -2
    result = run("solve", write(tmp_path, bad))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == "error: listing r2 field quantity: must be a positive integer\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not valid JSON: Expecting property name"),
        ('{"today": "2026-11-26"}', "field offers: must be an array of listings"),
        ("\udcff", "is not valid JSON"),
    ],
)
def test_unusable_files_exit_with_one_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "problem.json"
    path.write_bytes(content.encode("utf-8", "surrogateescape"))
    result = run("solve", str(path))
    assert result.returncode == 2
    assert message in result.stderr and result.stderr.count("\n") == 1


def test_a_missing_file_exits_with_one_line(tmp_path: Path) -> None:
    result = run("solve", str(tmp_path / "absent.json"))
    assert result.returncode == 2
    assert (
        result.stderr
        == f"error: cannot read {tmp_path / 'absent.json'}: No such file or directory\n"
    )


def test_usage_errors_exit_non_zero() -> None:
    assert run().returncode == 2
    assert run("solve", "x.json", "--mode", "fast").returncode == 2


def test_generate_writes_the_checked_in_problem_of_its_seed(tmp_path: Path) -> None:
    recipe = GENERATED["generated-1-400"]
    out = tmp_path / "problem.json"
    result = run("generate", "--seed", str(recipe.seed), "--size", str(recipe.size), "-o", str(out))
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert out.read_text() == (DATA / "generated-1-400.json").read_text()


def test_generate_prints_a_problem_the_solver_accepts(tmp_path: Path) -> None:
    result = run("generate", "--seed", "5", "--size", "31", "--spread", "nyc")
    assert result.returncode == 0, result.stderr
    problem = json.loads(result.stdout)
    assert (len(problem["offers"]), len(problem["requests"])) == (15, 16)
    solved = run("solve", write(tmp_path, problem), "--mode", "greedy")
    assert solved.returncode == 0 and json.loads(solved.stdout)["objective"] >= 0


def test_generate_seeds_differ_and_repeat() -> None:
    first, again, other = (
        run("generate", "--seed", s, "--size", "20").stdout for s in ["1", "1", "2"]
    )
    assert first == again != other


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--size", "1"], "argument --size: must be at least 2"),
        (["--size", "many"], "argument --size: not an integer: 'many'"),
        (["--size", "10", "--spread", "moon"], "argument --spread: invalid choice"),
        ([], "the following arguments are required: --seed"),
    ],
)
def test_generate_rejects_bad_arguments(args: list[str], message: str) -> None:
    seed = [] if not args else ["--seed", "3"]
    result = run("generate", *seed, *args)
    assert result.returncode == 2 and result.stdout == "" and message in result.stderr


def test_generate_to_an_unwritable_path_exits_with_one_line(tmp_path: Path) -> None:
    target = tmp_path / "absent" / "p.json"
    result = run("generate", "--seed", "1", "--size", "4", "-o", str(target))
    assert result.returncode == 2
    assert result.stderr == f"error: cannot write {target}: No such file or directory\n"
