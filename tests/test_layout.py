"""The layout is the architecture: imports go down scenarios → agents → marketplace → ledger."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ["ledger", "marketplace", "agents", "scenarios"]
#: What each package may never import (higher layers, and for the ledger also SimPy).
FORBIDDEN = {
    "ledger": {"marketplace", "agents", "scenarios", "simpy"},
    "marketplace": {"agents", "scenarios"},
    "agents": {"scenarios"},
    "scenarios": set(),
}


def _imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", LAYERS)
def test_imports_only_go_down(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imported_roots(path) & FORBIDDEN[package])
        for path in sorted((ROOT / package).rglob("*.py"))
        if _imported_roots(path) & FORBIDDEN[package]
    }
    assert offenders == {}, f"{package} imports a higher layer: {offenders}"


def test_the_checker_sees_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import simpy\nfrom marketplace.x import y\n")
    assert _imported_roots(bad) & FORBIDDEN["ledger"] == {"simpy", "marketplace"}


@pytest.mark.parametrize("package", LAYERS)
def test_modules_stay_small(package: str) -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in (ROOT / package).rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 600
    }
    assert long == {}, f"split these modules: {long}"
