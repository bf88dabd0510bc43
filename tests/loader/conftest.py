"""Fixtures of the loader tests: a valid export to break, and a warehouse that
already holds a load (to check a refusal leaves it byte for byte as it was)."""

from __future__ import annotations

from pathlib import Path

import pytest

from loader.cli import main
from tests.loader.hostile import copy_warehouse, order_rows, write_csv, write_mapping


@pytest.fixture
def export(tmp_path) -> Path:
    """A folder with a valid orders.csv and its mapping.yml."""
    folder = tmp_path / "export"
    folder.mkdir()
    write_csv(folder / "orders.csv", order_rows())
    write_mapping(folder)
    return folder


@pytest.fixture(scope="session")
def loaded_warehouse(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("loaded")
    write_csv(folder / "orders.csv", order_rows(orders=50, customers=10))
    db = folder / "warehouse.duckdb"
    assert main([str(write_mapping(folder)), "--db", str(db), "--quiet"]) == 0
    return db


@pytest.fixture
def warehouse(tmp_path, loaded_warehouse) -> Path:
    """A copy of a warehouse that holds an earlier load, for this test to (not) change."""
    folder = tmp_path / "db"
    folder.mkdir()
    return copy_warehouse(loaded_warehouse, folder)
