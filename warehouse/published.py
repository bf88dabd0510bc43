"""The published version of the marts: what analysts, training and scoring read.

Writers (the generator, the loader, `dbt build`, scoring) work in the
warehouse file. Readers never open it: DuckDB lets a file be open either by
one writer or by readers, so a notebook left open would stop every build. A
successful `dbt build` (and a scoring run) instead *publishes*: it writes the
marts as Parquet files into a new version folder, then a small catalog of
views over them, `<warehouse>.marts.duckdb`, under a temporary name that is
renamed over the previous catalog in one step. A reader opens the catalog
read-only and sees one complete version; a reader that opened the previous
one keeps it (the old file and its Parquet stay until later versions retire
them). A build that fails or is killed publishes nothing.

Every view stamps the version's build id (the dbt invocation that built the
marts) on its rows, so a version is one build by construction. The catalog is
written in a storage format the DuckDB CLI on PyPI (1.5) reads.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from warehouse.database import quote_identifier, quote_literal

CATALOG_SUFFIX = ".marts.duckdb"
VERSIONS_SUFFIX = ".marts"
# `duckdb-cli` 1.5 (on PyPI) reads files up to this storage format; 2.0 writes newer ones.
STORAGE_VERSION = "v1.5.0"
KEEP_VERSIONS = 3  # published versions whose files stay on disk (readers may hold them)
VERSION_LOG = "versions.json"
PUBLISHED_ALIAS = "published"  # the catalog's database name in a reader's connection


class PublishedError(Exception):
    """No published version, or one that cannot be read (one line for the user)."""


def catalog_path(db_path: Path) -> Path:
    """`data/warehouse.duckdb` -> `data/warehouse.marts.duckdb` (same DuckDB catalog name)."""
    db_path = Path(db_path)
    return db_path.with_name(db_path.name.removesuffix(".duckdb") + CATALOG_SUFFIX)


def versions_dir(db_path: Path) -> Path:
    db_path = Path(db_path)
    return db_path.with_name(db_path.name.removesuffix(".duckdb") + VERSIONS_SUFFIX)


@dataclass(frozen=True)
class Version:
    """One published version: its id, the build that made its marts, its files."""

    version: str
    build_id: str
    features_sha256: str
    published_at: str
    files: tuple[str, ...]


def new_version_dir(db_path: Path, build_id: str) -> Path:
    """A fresh folder for one version's Parquet files."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    folder = versions_dir(db_path) / f"{stamp}-{build_id[:8]}"
    folder.mkdir(parents=True, exist_ok=False)
    return folder


def parquet_view(columns: Iterable[str], files: Iterable[str], build_id: str) -> str:
    """A view over Parquet files that stamps the version's build id on every row."""
    listed = ", ".join(quote_literal(f) for f in files)
    selected = ", ".join(quote_identifier(c) for c in columns)
    return f"select {selected}, {quote_literal(build_id)} as build_id from read_parquet([{listed}])"


def write_catalog(db_path: Path, version: Version, views: dict[str, str]) -> Path:
    """Write the catalog of `views` ({schema.name: select sql}) and swap it in atomically.
    The previous catalog stays readable by whoever has it open."""
    target = catalog_path(db_path)
    # Partial catalogs of killed writers: the caller holds the writer lock, so
    # no other writer is writing one now.
    for stale in target.parent.glob(f".{target.name}.partial-*"):
        stale.unlink(missing_ok=True)
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    con = duckdb.connect()
    try:
        con.execute(
            f"attach {quote_literal(partial)} as published"
            f" (storage_version {quote_literal(STORAGE_VERSION)})"
        )
        for schema in sorted({name.split(".")[0] for name in views}):
            con.execute(f"create schema if not exists published.{quote_identifier(schema)}")
        for name, sql in views.items():
            schema, view = name.split(".")
            relation = f"{quote_identifier(schema)}.{quote_identifier(view)}"
            con.execute(f"create view published.{relation} as {sql}")
        con.execute(
            "create table published.main.published_version (version varchar, build_id varchar,"
            " features_sha256 varchar, published_at varchar, files varchar[])"
        )
        con.execute(
            "insert into published.main.published_version values (?, ?, ?, ?, ?)",
            [
                version.version,
                version.build_id,
                version.features_sha256,
                version.published_at,
                list(version.files),
            ],
        )
        # The views' SQL, so that a later partial publish (scoring) can keep the others.
        con.execute("create table published.main.published_views (name varchar, sql varchar)")
        con.executemany("insert into published.main.published_views values (?, ?)", views.items())
        con.execute("detach published")
    except BaseException:
        con.close()
        partial.unlink(missing_ok=True)
        raise
    con.close()
    os.replace(partial, target)  # readers see the old catalog or the new one, never a part
    return target


def log_version(db_path: Path, version: Version) -> None:
    """Append to the version log (the last KEEP_VERSIONS entries). Done before the
    catalog swap, so that no version a reader can see is ever missing from it."""
    folder = versions_dir(db_path)
    partial = folder / f".{VERSION_LOG}.partial"
    partial.write_text(json.dumps((read_log(db_path) + [version.__dict__])[-KEEP_VERSIONS:]))
    os.replace(partial, folder / VERSION_LOG)


def remove_unused_versions(db_path: Path) -> None:
    """Remove the folders no logged version uses: older versions, and what killed
    publishes left behind (the caller holds the writer lock: nobody writes one now)."""
    in_use = {version_folder(f) for entry in read_log(db_path) for f in entry["files"]}
    for child in versions_dir(db_path).iterdir():
        if child.is_dir() and child.name not in in_use:
            shutil.rmtree(child, ignore_errors=True)


def version_folder(file: str) -> str:
    """The version folder a published file lies in (a table's file is
    `<version>/<table>.parquet`, a partition's `<version>/<table>/<key=value>/*.parquet`)."""
    parts = Path(file).parts
    return next(
        parts[i + 1] for i in range(len(parts) - 1, -1, -1) if parts[i].endswith(VERSIONS_SUFFIX)
    )


def read_log(db_path: Path) -> list[dict]:
    path = versions_dir(db_path) / VERSION_LOG
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return []


def connect(db_path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the published marts; never blocks or is blocked by
    a writer of the warehouse."""
    path = catalog_path(db_path)
    if not path.is_file():
        raise PublishedError(
            f"no published marts at {path}: run `dbt build` (a successful build publishes them)"
        )
    # Attached to a fresh in-memory database rather than opened: DuckDB hands a
    # process that already has a file open that same instance again, so a second
    # connect would show the version the first one opened, not the current one.
    con = duckdb.connect()
    try:
        con.execute(f"attach {quote_literal(path)} as {PUBLISHED_ALIAS} (read_only)")
        con.execute(f"use {PUBLISHED_ALIAS}")
    except duckdb.Error as error:
        con.close()
        raise PublishedError(f"cannot open the published marts {path}: {error}") from None
    return con


def current_version(con: duckdb.DuckDBPyConnection) -> Version:
    row = con.execute(
        "select version, build_id, features_sha256, published_at, files from main.published_version"
    ).fetchone()
    return Version(*row[:4], files=tuple(row[4]))


def export_table(con: duckdb.DuckDBPyConnection, relation: str, folder: Path) -> dict:
    """Write one table of the working warehouse (through `con`, the writer's
    connection) as Parquet into a version folder; its entry for publish_version."""
    path = Path(folder) / f"{relation}.parquet"
    schema, name = relation.split(".")
    quoted = f"{quote_identifier(schema)}.{quote_identifier(name)}"
    con.execute(f"copy (select * from {quoted}) to {quote_literal(path)} (format parquet)")
    described = con.execute(f"describe {quoted}").fetchall()
    return {
        "path": str(path),
        "columns": [row[0] for row in described],
        "types": [row[1] for row in described],
    }


def _of_any(file: str, relations: list[str]) -> bool:
    """Whether a published file holds one of the relations (`<relation>.parquet`, or
    a partition under `<relation>/`)."""
    path = Path(file)
    return any(path.name == f"{r}.parquet" or r in path.parts for r in relations)


def republish(db_path: Path, con: duckdb.DuckDBPyConnection, relations: list[str]) -> Path:
    """A new version in which `relations` are re-exported from the working warehouse
    (scores after a scoring run) and every other view is the current version's.
    The caller holds the writer lock, so no build publishes in between."""
    with connect(db_path) as current:
        version = current_version(current)
        views = dict(current.execute("select name, sql from main.published_views").fetchall())
    folder = new_version_dir(db_path, version.build_id)
    tables = {relation: export_table(con, relation, folder) for relation in relations}
    spec = {
        "build_id": version.build_id,
        "features_sha256": version.features_sha256,
        "version_dir": str(folder),
        "tables": tables,
        "views": {name: sql for name, sql in views.items() if name not in relations},
        "kept_files": [f for f in version.files if not _of_any(f, relations)],
    }
    return publish_version(db_path, spec)


def parquet_files(path: Path) -> list[str]:
    """The Parquet files of one table: a file, or every file under a partitioned folder."""
    path = Path(path)
    if path.is_file():
        return [str(path)]
    return sorted(str(p) for p in path.rglob("*.parquet"))


def published_partitions(db_path: Path, relation: str, build_id: str) -> dict[str, list[str]]:
    """The current version's files of a partitioned table by partition value
    (`<relation>/<key>=<value>/*.parquet`), when `build_id` built that version;
    {} otherwise (or when nothing is published)."""
    try:
        with connect(db_path) as con:
            version = current_version(con)
    except PublishedError:
        return {}
    if version.build_id != build_id:
        return {}
    partitions: dict[str, list[str]] = {}
    for file in version.files:
        path = Path(file)
        if path.parent.parent.name == relation and "=" in path.parent.name:
            partitions.setdefault(path.parent.name.split("=", 1)[1], []).append(file)
    return partitions


def link_partitions(folder: Path, relation: str, files: Iterable[str]) -> None:
    """Put partition files of the previous version into this version's folder
    as hard links (no copy; each version's folder stays self-contained, so
    removing an old one frees only what no later version links)."""
    for file in map(Path, files):
        partition = Path(folder) / relation / file.parent.name
        partition.mkdir(parents=True, exist_ok=True)
        try:
            os.link(file, partition / file.name)
        except OSError:  # a file system without hard links
            shutil.copy2(file, partition / file.name)


def publish_version(db_path: Path, spec: dict) -> Path:
    """Publish one version from its spec: `tables` ({schema.name: {columns, path}}, the
    Parquet written for them), `linked` ({schema.name: [partition file]}, unchanged
    partitions of the previous version to add to them), `views` ({schema.name: select
    sql} over those tables), `build_id`, `features_sha256`, `version_dir`. Returns the
    catalog's path."""
    for relation, linked_files in spec.get("linked", {}).items():
        link_partitions(Path(spec["version_dir"]), relation, linked_files)
    views, files = {}, list(spec.get("kept_files", []))
    for name, table in spec["tables"].items():
        table_files = parquet_files(table["path"])  # none for an empty partitioned table
        files += table_files
        views[name] = (
            parquet_view(table["columns"], table_files, spec["build_id"])
            if table_files
            else empty_view(table["columns"], table["types"], spec["build_id"])
        )
    views.update(spec.get("views", {}))
    version = Version(
        version=Path(spec["version_dir"]).name,
        build_id=spec["build_id"],
        features_sha256=spec.get("features_sha256", ""),
        published_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        files=tuple(files),
    )
    log_version(db_path, version)
    path = write_catalog(db_path, version, views)
    remove_unused_versions(db_path)
    return path


def empty_view(columns: list[str], types: list[str], build_id: str) -> str:
    """A view of no rows with the table's columns, for a table that had none."""
    selected = ", ".join(
        f"cast(null as {t}) as {quote_identifier(c)}" for c, t in zip(columns, types, strict=True)
    )
    return f"select {selected}, {quote_literal(build_id)} as build_id where false"
