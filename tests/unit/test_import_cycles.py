"""No file-level import cycles among the project's modules, read from the source files with ``ast``.

The graph has one node per module file (``pkg/mod.py`` or ``pkg/__init__.py``) of every top-level
package of the repository, and an edge for each import of another project module: ``import a.b``,
``from a.b import c`` (to ``a/b/c.py`` when that file exists, else to ``a/b``) and relative
imports. Every import statement counts: at module level (including ``if``/``try`` blocks, class
bodies and ``if TYPE_CHECKING:``) and inside functions. A late import inside a function only hides
a cycle from Python; the three cycles issue 16 found (printer render/preview, config
schema/checks, report/charts) were all of that kind, so a module-level-only graph would miss them.
Importing ``a.b.c`` also runs ``a/__init__.py``; that edge is left out, as a package's own
modules importing each other through it is not a cycle between files.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def packages(root: Path) -> list[Path]:
    """Top-level package folders of `root` (those with an ``__init__.py``)."""
    return sorted(p.parent for p in root.glob("*/__init__.py") if not p.parent.name.startswith("."))


def module_files(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every module of every top-level package."""
    out: dict[str, Path] = {}
    for pkg in packages(root):
        for path in pkg.rglob("*.py"):
            parts = path.relative_to(root).with_suffix("").parts
            if any(part.startswith(".") or part == "__pycache__" for part in parts):
                continue
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


def imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement of a module, wherever it is."""
    return (node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom))


def imported_modules(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The project modules `name` (read from `path`) imports."""
    is_pkg = path.name == "__init__.py"
    found: set[str] = set()
    for node in imports(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            if node.level:
                base = name.split(".") if is_pkg else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            targets = [f"{source}.{alias.name}" if f"{source}.{alias.name}" in known else source
                       for alias in node.names]
        found |= {t for t in targets if t in known and t != name}
    return found


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the project modules it imports."""
    known = module_files(root)
    return {name: imported_modules(name, path, known) for name, path in known.items()}


def cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected parts with more than one module (Tarjan), i.e. the import cycles."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[frozenset[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            part = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                part.add(w)
                if w == v:
                    break
            if len(part) > 1:
                out.append(frozenset(part))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_project_has_no_import_cycles():
    found = [sorted(c) for c in cycles(import_graph(ROOT))]
    assert not found, f"file-level import cycles: {found}"


def test_the_graph_sees_the_project():
    graph = import_graph(ROOT)
    assert "devices.printer.lowering" in graph["devices.printer.render"]  # relative import
    assert "queue_core" in graph["hub.store"] or "queue_core.model" in graph["hub.store"]


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def test_finds_a_cycle_through_relative_absolute_and_type_only_imports(tmp_path):
    _write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/a.py": "from . import b\n",
        "pkg/b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.c import C\n",
        "pkg/c.py": "import pkg.a\n",
        "pkg/d.py": "import os\nfrom pkg import a\n",
        "other/__init__.py": "from pkg.d import late\n",
    })
    graph = import_graph(tmp_path)
    assert graph["pkg.d"] == {"pkg.a"} and graph["other"] == {"pkg.d"}
    assert cycles(graph) == [frozenset({"pkg.a", "pkg.b", "pkg.c"})]


def test_an_import_inside_a_function_still_makes_a_cycle(tmp_path):
    _write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/a.py": "from .b import x\n",
        "pkg/b.py": "x = 1\n\ndef f():\n    from .a import x\n    return x\n",
        "pkg/c.py": "from pkg.a import x\n",
    })
    assert cycles(import_graph(tmp_path)) == [frozenset({"pkg.a", "pkg.b"})]
