"""The layers, as import rules read from the real files (``ast``): who may import whom.

Every ``import`` counts, wherever it stands (module level, inside a function, under
``TYPE_CHECKING``). A rule names a package and what it may or must never import; add a rule to
``RULES`` to guard another seam.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROJECT = frozenset(p.parent.name for p in ROOT.glob("*/__init__.py"))
"""The project's top-level packages (``hub``, ``qms``, ``queue_core``, ``tests``, ...)."""


@dataclass(frozen=True)
class Rule:
    """What the modules of ``package`` may import, besides the standard library and ``package`` itself."""

    package: str
    why: str
    may_import: frozenset[str] | None = None
    """The project's packages it may import; None: any of them."""
    never: frozenset[str] = frozenset()
    """Top-level modules it must never import, of the project or not (e.g. ``kivy``)."""

    def breaks(self, imported: str) -> bool:
        """True when importing the top-level module ``imported`` breaks this rule."""
        if imported == self.package:
            return False
        if imported in self.never:
            return True
        return self.may_import is not None and imported in PROJECT and imported not in self.may_import


RULES = (
    Rule("queue_core", "the queue's rules are pure: no store, no transport, no config file",
         may_import=frozenset()),
    Rule("hub", "the hub gets its store and bus handed in (Hub(store, bus)); the wiring lives in qms",
         may_import=frozenset({"queue_core", "mqtt_bus"})),
    Rule("mqtt_bus", "the contract and its transport: the contract's names come from queue_core, nothing of the apps",
         may_import=frozenset({"queue_core"}), never=frozenset({"kivy"})),
    Rule("devices", "printers, keypads, LED boards and the voice are adapters: no Kivy, nothing of the apps",
         may_import=frozenset({"queue_core", "mqtt_bus"}), never=frozenset({"kivy"})),
    Rule("web", "the web app edits the config through qms.config and reads the broker: no Kivy, nothing of the apps",
         may_import=frozenset({"qms", "mqtt_bus", "queue_core"}), never=frozenset({"kivy"})),
)


def module_name(path: Path) -> str:
    """``hub/server.py`` -> ``hub.server``; ``hub/__init__.py`` -> ``hub``."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """The absolute names of every module ``path`` imports (relative imports resolved)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                found.add(".".join([*base, node.module] if node.module else base))
            else:
                found.add(node.module or "")
    return found


def test_the_rules_see_real_packages_and_their_imports():
    assert {"hub", "qms", "queue_core", "mqtt_bus"} <= PROJECT
    assert all(rule.package in PROJECT for rule in RULES)
    assert "queue_core.actions" in imports_of(ROOT / "hub" / "server.py")  # an absolute import
    assert "hub.fairness" in imports_of(ROOT / "hub" / "server.py")  # a relative one, resolved


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.package)
def test_package_imports_only_what_its_rule_allows(rule: Rule):
    files = sorted((ROOT / rule.package).rglob("*.py"))
    assert files, f"no modules in {rule.package}/"
    broken = [f"{path.relative_to(ROOT)} imports {imported}"
              for path in files for imported in sorted(imports_of(path)) if rule.breaks(imported.split(".")[0])]
    assert not broken, f"{rule.package}: {rule.why}:\n" + "\n".join(broken)


def test_the_devices_context_does_not_load_the_store():
    """Kiosks, displays and counter pads use ``AppContext`` without a store: they never import the hub's modules."""
    code = "import qms.context, sys; print(sorted(m for m in sys.modules if m.split('.')[0] == 'hub'))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_web_app_loads_no_kivy_and_no_app():
    """``web.app`` (with its pages) runs on a board without a screen: importing it loads no Kivy and no app."""
    code = ("import web.app, web.center, web.cli, sys; print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'kivy', 'kiosk', 'counter', 'queue_display', 'ui_kit', 'hub'}))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_province_package_imports_only_the_bus_and_qms():
    """``qms.province`` (bridge configs, the ingester) runs on a provincial server: no Kivy, no app, no hub."""
    allowed = {"qms", "mqtt_bus", "queue_core"}
    broken = [f"{path.relative_to(ROOT)} imports {imported}"
              for path in sorted((ROOT / "qms" / "province").rglob("*.py")) for imported in sorted(imports_of(path))
              if imported.split(".")[0] == "kivy" or (imported.split(".")[0] in PROJECT
                                                      and imported.split(".")[0] not in allowed)]
    assert not broken, "\n".join(broken)
    code = ("import qms.province.cli, qms.province.ingest, sys; print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'kivy', 'kiosk', 'counter', 'queue_display', 'ui_kit', 'hub', 'web'}))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
