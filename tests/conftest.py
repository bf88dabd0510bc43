"""Shared fixtures: small generated warehouses, built once per session."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from seeds_gen.generate import GenerationConfig, generate

DEMO_START = date(2024, 1, 1)
DEMO_END = date(2026, 1, 1)


def make_warehouse(path: Path, **overrides) -> Path:
    cfg = GenerationConfig(**{"customers": 3000, "seed": 7, **overrides})
    generate(cfg, path, overwrite=True, progress=False)
    return path


@pytest.fixture(scope="session")
def behaviour_db(tmp_path_factory) -> Path:
    """Clean data, large enough for the behavioural hypotheses to show."""
    path = tmp_path_factory.mktemp("behaviour") / "warehouse.duckdb"
    return make_warehouse(path, customers=20_000, truth=True)


@pytest.fixture(scope="session")
def dirty_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("dirty") / "warehouse.duckdb"
    return make_warehouse(path, dirty_rate=0.05, truth=True)


def query(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


@pytest.fixture(scope="session")
def built_db(tmp_path_factory) -> tuple[Path, Path]:
    """A small dirty warehouse after a full `dbt build` (tests included): (db, target dir)."""
    from tests.dbt_runner import run_dbt

    root = tmp_path_factory.mktemp("built")
    db = make_warehouse(root / "warehouse.duckdb", dirty_rate=0.03, truth=True)
    run_dbt(["build"], db, root / "target")
    return db, root / "target"


@pytest.fixture(scope="session")
def modeling_db(tmp_path_factory) -> tuple[Path, Path]:
    """A small warehouse built for the modeling tests: (db, manifest). Tests copy it
    before changing it."""
    from tests.dbt_runner import run_dbt

    root = tmp_path_factory.mktemp("modeling")
    db = make_warehouse(root / "warehouse.duckdb", dirty_rate=0.01, seed=11)
    run_dbt(["build"], db, root / "target")
    return db, root / "target" / "manifest.json"


@pytest.fixture
def mlflow_store(tmp_path, monkeypatch) -> str:
    """A fresh MLflow tracking store and registry; runs in tmp_path (artifacts land there)."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.chdir(tmp_path)
    return uri
