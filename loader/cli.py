"""Land a shop's own CSV or Parquet exports in the warehouse's raw tables.

    python -m loader MAPPING.yml [--db PATH] [--file orders=PATH ...]
                                 [--loaded-at auto|event|now|TIMESTAMP]

See loader.load for what loading does and loader.mapping for the mapping file.
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import datetime, timezone
from pathlib import Path

from loader.load import LOADED_AT_POLICIES, LoadError, SourceReport, load
from loader.mapping import MappingError, did_you_mean, read_mapping
from warehouse.cli import Parser
from warehouse.contract import RAW_SCHEMA, RAW_TABLES
from warehouse.database import DB_PATH_ENV_VAR, WarehouseError, not_duckdb_file, resolve_db_path

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line, checked: a bad option is a one-line usage error (exit 2)."""
    parser = Parser(prog="python -m loader", description=__doc__.splitlines()[0])
    parser.add_argument("mapping", type=Path, help="the mapping file (YAML): see examples/")
    parser.add_db_option()
    parser.add_argument(
        "--file",
        action="append",
        default=[],
        metavar="TABLE=PATH",
        help="load this file for a source instead of the mapping's (e.g. a later export)",
    )
    parser.add_argument(
        "--loaded-at",
        default="auto",
        help="what _loaded_at records: 'event' (each row's event time: a history backfill),"
        " 'now' (the load time), a timestamp (when the export was taken), or 'auto'"
        " (default: event for a table's first load, now after that)",
    )
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors")
    args = parser.parse_args(argv)
    if args.loaded_at not in LOADED_AT_POLICIES:
        args.loaded_at = utc_timestamp(parser, args.loaded_at)
    args.file = files_by_table(parser, args.file)
    return args


def utc_timestamp(parser: Parser, value: str) -> str:
    """An ISO timestamp as naive UTC (raw times are UTC); one with an offset is converted."""
    try:
        stamp = datetime.fromisoformat(value)
    except ValueError:
        parser.error(f"--loaded-at {value!r}: auto, event, now or an ISO timestamp")
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(timezone.utc).replace(tzinfo=None)
    return stamp.isoformat(sep=" ")


def files_by_table(parser: Parser, items: list[str]) -> dict[str, Path]:
    """`--file TABLE=PATH` options as {table: path}, each table once."""
    files: dict[str, Path] = {}
    for item in items:
        table, _, path = item.partition("=")
        if not path:
            parser.error(f"--file {item!r}: expected TABLE=PATH")
        if table not in RAW_TABLES:
            parser.error(
                f"--file {item!r}: no raw table {table!r} ({did_you_mean(table, RAW_TABLES)})"
            )
        if table in files:
            parser.error(f"--file {table}=...: given twice (one file per source and load)")
        files[table] = Path(path)
    return files


def one_line(message: str) -> str:
    """The message with control characters escaped: a key, file or column name
    holding a line break (or a terminal escape) stays on the one line."""
    return CONTROL.sub(lambda found: repr(found[0])[1:-1], message)


def check_warehouse_file(db_path: Path) -> None:
    """An existing --db file must be a DuckDB database: DuckDB opens another file (a
    CSV export given by mistake) as an empty in-memory database, and the load is lost."""
    if db_path.is_file() and not_duckdb_file(db_path):
        raise LoadError(
            f"{db_path}: not a DuckDB warehouse (give the warehouse file with --db or"
            f" ${DB_PATH_ENV_VAR}, or a new path)"
        )


def summary(db_path: Path, reports: list[SourceReport], mapped: set[str]) -> list[str]:
    """What was added and noticed, one line per source and note."""
    lines = [f"loaded into {db_path}:"]
    for r in reports:
        if r.skipped:
            lines.append(f"  {RAW_SCHEMA}.{r.table:<16} {r.file}: skipped, {r.skipped}")
            continue
        lines.append(
            f"  {RAW_SCHEMA}.{r.table:<16} {r.rows_added:>10,} new of {r.rows_read:,} rows"
            f" from {r.file}; _loaded_at = {r.loaded_at}"
        )
        lines += [f"      {note}" for note in r.notes]
    empty = [t for t in RAW_TABLES if t not in mapped and t != "customers"]
    if empty:
        lines.append(f"  absent sources, present as empty tables: {', '.join(empty)}")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Load the mapping's exports; 0 on success, 1 with a one-line error."""
    args = parse_args(argv)
    try:
        db_path = resolve_db_path(args.db)
        check_warehouse_file(db_path)
        mapping = read_mapping(args.mapping, args.file)
        reports = load(mapping, db_path, args.loaded_at)
    except (MappingError, LoadError, WarehouseError) as exc:
        print(f"error: {one_line(str(exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted: nothing was loaded", file=sys.stderr)
        return 130
    if not args.quiet:
        print("\n".join(summary(db_path, reports, set(mapping.sources))))
    return 0
