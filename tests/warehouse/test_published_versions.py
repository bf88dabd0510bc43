"""warehouse.published without a dbt build: a version's partitioned table, and
the partitions a later version links from it instead of writing them again."""

from __future__ import annotations

from pathlib import Path

import duckdb

from warehouse import published

RELATION = "marts.customer_snapshots"


def publish_snapshots(db: Path, build_id: str, as_ofs: list[str], linked=None) -> Path:
    """Publish a version whose snapshots table holds `as_ofs` (written) plus `linked` files."""
    folder = published.new_version_dir(db, build_id)
    path = folder / RELATION
    if as_ofs:
        with duckdb.connect() as con:
            con.execute(
                f"copy (select cast(unnest({as_ofs}) as date) as as_of, '{build_id}' as written_by)"
                f" to '{path}' (format parquet, partition_by (as_of), write_partition_columns true)"
            )
    spec = {
        "build_id": build_id,
        "version_dir": str(folder),
        "tables": {RELATION: {"path": str(path), "columns": ["as_of", "written_by"]}},
        "linked": {RELATION: linked or []},
    }
    return published.publish_version(db, spec)


def test_a_refresh_links_the_partitions_it_kept_and_writes_the_others(tmp_path):
    db = tmp_path / "warehouse.duckdb"
    publish_snapshots(db, "build-1", ["2025-01-01", "2025-02-01", "2025-03-01"])

    assert published.published_partitions(db, RELATION, "another-build") == {}
    kept = published.published_partitions(db, RELATION, "build-1")
    assert sorted(kept) == ["2025-01-01", "2025-02-01", "2025-03-01"]

    # The next build rewrote 2025-03-01 and added 2025-04-01; it links the rest.
    linked = kept["2025-01-01"] + kept["2025-02-01"]
    publish_snapshots(db, "build-2", ["2025-03-01", "2025-04-01"], linked=linked)
    with published.connect(db) as con:
        rows = con.execute(f"select cast(as_of as varchar), written_by from {RELATION}").fetchall()
        files = published.current_version(con).files
    assert sorted(rows) == [
        ("2025-01-01", "build-1"),
        ("2025-02-01", "build-1"),
        ("2025-03-01", "build-2"),
        ("2025-04-01", "build-2"),
    ]
    # Links, not copies, each inside the new version's own folder.
    new_folder = Path(files[0]).parents[2]
    assert all(Path(f).is_relative_to(new_folder) for f in files)
    assert sorted(Path(f).stat().st_nlink for f in files) == [1, 1, 2, 2]


def test_nothing_published_means_nothing_to_link(tmp_path):
    assert published.published_partitions(tmp_path / "warehouse.duckdb", RELATION, "b") == {}
