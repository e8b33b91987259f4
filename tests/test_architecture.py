"""The import graph of coalition/: no module takes part in an import circle.

The layering contracts (matching imports no framework, models no services, services no
blueprints, nothing imports the worker) are import-linter's, in pyproject.toml, run by
`make lint`; this test adds what import-linter cannot see: circles through a package's
`__init__`. Imports under `if TYPE_CHECKING:` are left out, as they never run.
"""

from __future__ import annotations

import grimp


def import_cycles(graph: grimp.ImportGraph, package: str) -> list[list[str]]:
    """Each set of modules of `package` that import one another in a circle, sorted."""
    modules = sorted(m for m in graph.modules if m == package or m.startswith(f"{package}."))
    reach = {m: graph.find_downstream_modules(m) & set(modules) for m in modules}
    circles = {frozenset({m, *(n for n in reach[m] if m in reach[n])}) for m in modules}
    return sorted(sorted(c) for c in circles if len(c) > 1)


def _graph(*imports: tuple[str, str]) -> grimp.ImportGraph:
    """A hand-made import graph of (importer, imported) pairs."""
    graph = grimp.ImportGraph()
    for importer, imported in imports:
        graph.add_import(importer=importer, imported=imported)
    return graph


def test_circles_are_found_with_every_module_in_them() -> None:
    graph = _graph(("p.a", "p.b"), ("p.b", "p.c"), ("p.c", "p.a"), ("p.c", "p.d"),
                   ("p", "p.views"), ("p.views", "p"), ("q.x", "p.a"), ("p.d", "q.x"))  # fmt: skip
    assert import_cycles(graph, "p") == [["p", "p.views"], ["p.a", "p.b", "p.c", "p.d"]]


def test_a_graph_without_circles_has_none() -> None:
    graph = _graph(("p.a", "p.b"), ("p.b", "p.c"), ("p.a", "p.c"), ("p.c", "q.x"))
    assert import_cycles(graph, "p") == []


def test_no_import_cycle_between_modules_of_coalition() -> None:
    graph = grimp.build_graph("coalition", exclude_type_checking_imports=True, cache_dir=None)
    assert import_cycles(graph, "coalition") == []
