"""Land a shop's own CSV or Parquet exports in the warehouse's raw tables.

    python -m loader MAPPING.yml [--db PATH] [--file orders=PATH ...]
                                 [--loaded-at auto|event|now|TIMESTAMP]

See loader.load for what loading does and loader.mapping for the mapping file.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

from loader.load import LOADED_AT_POLICIES, LoadError, SourceReport, load
from loader.mapping import MappingError, read_mapping
from warehouse.cli import Parser
from warehouse.contract import RAW_SCHEMA, RAW_TABLES
from warehouse.database import resolve_db_path


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
        try:
            datetime.fromisoformat(args.loaded_at)
        except ValueError:
            parser.error(f"--loaded-at {args.loaded_at!r}: auto, event, now or an ISO timestamp")
    for item in args.file:
        if "=" not in item:
            parser.error(f"--file {item!r}: expected TABLE=PATH")
    return args


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
    files = dict(item.split("=", 1) for item in args.file)
    db_path = resolve_db_path(args.db)
    try:
        mapping = read_mapping(args.mapping, {t: Path(p) for t, p in files.items()})
        reports = load(mapping, db_path, args.loaded_at)
    except (MappingError, LoadError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if not args.quiet:
        print("\n".join(summary(db_path, reports, set(mapping.sources))))
    return 0
