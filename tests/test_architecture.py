"""The floors of docs/architecture.md, held by import-linter's contracts (pyproject.toml): run with the
tests, so an import that runs upward fails the suite, and seen to fail when one is added on purpose."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

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
