"""Packages import downward: seeds_gen, loader, modeling and featurestore import
warehouse, and none of them imports another. Checked on the source, so a stray import fails
here and not in production."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# package -> packages it must never import
FORBIDDEN = {
    "warehouse": {"seeds_gen", "loader", "modeling", "featurestore"},
    "seeds_gen": {"loader", "modeling", "featurestore"},
    "loader": {"seeds_gen", "modeling", "featurestore"},
    "modeling": {"seeds_gen", "loader", "featurestore"},
    # dbt tooling: reads the catalog, writes YAML; the modeling layer reads the manifest
    "featurestore": {"seeds_gen", "loader", "modeling"},
}


def imported_modules(path: Path, root: Path = REPO) -> set[str]:
    """Absolute names of the modules a file imports (relative imports resolved)."""
    package = path.relative_to(root).with_suffix("").parts[:-1]
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else ()
            module = ".".join([*base, *([node.module] if node.module else [])])
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def package_imports(package: str) -> dict[str, set[str]]:
    return {
        str(path.relative_to(REPO)): imported_modules(path)
        for path in sorted((REPO / package).rglob("*.py"))
    }


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_packages_import_downward(package):
    files = package_imports(package)
    assert files, f"no sources found for {package}"
    wrong = {
        file: sorted(m for m in modules if m.split(".")[0] in FORBIDDEN[package])
        for file, modules in files.items()
    }
    assert not {f: m for f, m in wrong.items() if m}, (
        f"{package} must not import {FORBIDDEN[package]}"
    )


def test_scoring_does_not_import_training():
    modules = imported_modules(REPO / "modeling" / "score.py")
    assert "modeling.registry" in modules  # the scan sees what score imports
    assert not any(m == "modeling.train" or m.startswith("modeling.train.") for m in modules)


def test_the_scan_resolves_relative_imports(tmp_path):
    source = tmp_path / "modeling" / "x.py"
    source.parent.mkdir()
    source.write_text("from . import train\nfrom .registry import load_version\n")
    assert {"modeling.train", "modeling.registry"} <= imported_modules(source, tmp_path)
