"""`coalition.matching` imports no web, database or messaging framework."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import coalition.matching

PACKAGE = Path(coalition.matching.__file__).resolve().parent
FORBIDDEN = {"flask", "flask_sqlalchemy", "flask_login", "sqlalchemy", "kombu", "amqp"}


def imported_roots(path: Path) -> set[str]:
    """Top-level names of every module a file imports, wherever the import statement is."""
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_no_module_of_the_package_imports_a_framework() -> None:
    files = sorted(PACKAGE.glob("*.py"))
    assert len(files) >= 10
    offenders = {
        f.name: imported_roots(f) & FORBIDDEN for f in files if imported_roots(f) & FORBIDDEN
    }
    assert offenders == {}


def test_the_package_only_imports_itself_from_coalition() -> None:
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            module = node.module or "" if isinstance(node, ast.ImportFrom) else ""
            if module.startswith("coalition"):
                assert module.startswith("coalition.matching"), f"{path.name}: {module}"


def test_importing_the_package_loads_no_framework() -> None:
    # A bare `coalition` package stands in for the real one, whose __init__ builds the app.
    code = (
        "import sys, types\n"
        f"stub = types.ModuleType('coalition'); stub.__path__ = [{str(PACKAGE.parent)!r}]\n"
        "sys.modules['coalition'] = stub\n"
        "import coalition.matching, coalition.matching.__main__\n"
        f"loaded = {{m.split('.')[0] for m in sys.modules}} & set({sorted(FORBIDDEN)!r})\n"
        "assert not loaded, loaded\n"
        "assert 'coalition.matching.optimize' in sys.modules\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
