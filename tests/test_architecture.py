"""The floors of docs/architecture.md, held by import-linter's contracts (pyproject.toml): run with the
tests, so an import that runs upward fails the suite, and seen to fail when one is added on purpose."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = ROOT / ".venv" / "bin" / "lint-imports"
PACKAGES = ("webapp", "policy_codes", "signing")


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    """import-linter over the packages of `tree`, with its configuration: they shadow the installed ones."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_contracts_hold() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout
    assert result.stdout.count("KEPT") == 4


def test_an_upward_import_breaks_the_suite(tmp_path: Path) -> None:
    """A registry service that reaches for the web floor: the contract must say which and where."""
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    service = tmp_path / "webapp" / "registry" / "lifecycle.py"
    service.write_text(service.read_text(encoding="utf-8") + "\nfrom webapp.web import labels  # noqa\n", "utf-8")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout
    assert "webapp.registry.lifecycle -> webapp.web.labels" in result.stdout


def import_cycles(package: str) -> list[list[str]]:
    """The module-level import cycles of a package, largest first (strongly connected components)."""
    graph = grimp.build_graph(package, exclude_type_checking_imports=True)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(module: str) -> None:  # Tarjan's algorithm
        index[module] = low[module] = len(index)
        stack.append(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return sorted(cycles, key=len, reverse=True)


def test_no_module_of_webapp_imports_one_that_imports_it_back() -> None:
    """Before the floors, 9 modules imported each other in one circle (errors → api → … → errors)."""
    assert import_cycles("webapp") == []
