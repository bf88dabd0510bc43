"""`python -m seeds_gen`: generate a synthetic shop into the warehouse's raw schema."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from seeds_gen.behaviour import BehaviourConfig
from seeds_gen.generate import (
    MAX_CUSTOMERS,
    MAX_DIRTY_RATE,
    MAX_EFFECT,
    MAX_SEED,
    GenerationConfig,
    GeneratorError,
    generate,
)
from warehouse.cli import Parser, iso_date, number
from warehouse.database import INTERRUPTED, WarehouseError, resolve_db_path

EFFECT = number(float, -MAX_EFFECT, MAX_EFFECT)


def build_parser() -> Parser:
    defaults = GenerationConfig()
    behaviour = BehaviourConfig()
    p = Parser(
        prog="python -m seeds_gen",
        description=(
            "Simulate a shop's customers (orders, visits, loyalty, reviews, support) and write"
            " the raw event tables to DuckDB. Churn is simulated as behaviour, never as a label."
        ),
    )
    p.add_argument(
        "--customers",
        type=number(int, 1, MAX_CUSTOMERS),
        default=defaults.customers,
        help="number of customers, 1 to 20 million and what the memory holds (about 6 GiB"
        " per million over two years; default: %(default)s)",
    )
    p.add_argument(
        "--start",
        type=iso_date,
        default=defaults.start,
        help="first day of data (default: %(default)s)",
    )
    p.add_argument(
        "--end",
        type=iso_date,
        default=defaults.end,
        help="data horizon, exclusive (default: %(default)s)",
    )
    p.add_argument(
        "--seed",
        type=number(int, 0, MAX_SEED),
        default=defaults.seed,
        help="random seed (default: %(default)s)",
    )
    p.add_db_option()
    p.add_argument(
        "--overwrite", action="store_true", help="replace raw tables already in the database"
    )
    p.add_argument(
        "--dirty-rate",
        type=number(float, 0, MAX_DIRTY_RATE, high_open=True),
        default=defaults.dirty_rate,
        help="share of extra bad rows per table: duplicates, bad ids, amounts, timestamps and"
        " categories, plus late arrivals (default: %(default)s)",
    )
    p.add_argument(
        "--truth",
        action="store_true",
        help="also write evaluation-only ground truth to schema 'truth'",
    )
    p.add_argument(
        "--truth-as-of",
        type=iso_date,
        action="append",
        default=None,
        help="snapshot date for the true label probability"
        " (repeatable; default: end - churn window)",
    )
    p.add_argument(
        "--churn-window-days",
        type=number(int, 1),
        default=defaults.churn_window_days,
        help="label window for --truth (default: %(default)s)",
    )
    p.add_argument(
        "--parquet",
        type=Path,
        default=None,
        help="also export each raw table as Parquet into this folder",
    )
    p.add_argument(
        "--annual-churn",
        type=number(float, 0, 1, low_open=True, high_open=True),
        default=behaviour.annual_churn,
        help="P(churn within a year) of a reference customer (default: %(default)s)",
    )
    p.add_argument(
        "--loyalty-effect",
        type=EFFECT,
        default=behaviour.loyalty_effect,
        help="log hazard ratio by which loyalty membership protects (default: %(default)s)",
    )
    p.add_argument(
        "--engagement-effect",
        type=EFFECT,
        default=behaviour.engagement_effect,
        help="log hazard ratio per SD of browsing engagement (default: %(default)s)",
    )
    p.add_argument(
        "--satisfaction-effect",
        type=EFFECT,
        default=behaviour.satisfaction_effect,
        help="log hazard ratio per SD of satisfaction (default: %(default)s)",
    )
    p.add_argument(
        "--frequency-effect",
        type=EFFECT,
        default=behaviour.frequency_effect,
        help="log hazard ratio per SD of purchase rate (default: %(default)s)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    cfg = config_from_args(args)
    try:
        cfg.validate()
    except GeneratorError as exc:
        parser.error(str(exc))
    started = time.perf_counter()
    try:
        db_path = resolve_db_path(args.db)
        counts = generate(
            cfg,
            db_path,
            overwrite=args.overwrite,
            parquet_dir=args.parquet,
            progress=False if args.quiet else None,
        )
    except (GeneratorError, WarehouseError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        return 130
    if not args.quiet:
        elapsed = time.perf_counter() - started
        total = sum(counts.values())
        print(f"wrote {total:,} raw rows to {db_path} in {elapsed:.1f}s")
        for table, count in counts.items():
            print(f"  raw.{table:<16} {count:>12,}")
    return 0


def config_from_args(args: argparse.Namespace) -> GenerationConfig:
    return GenerationConfig(
        customers=args.customers,
        start=args.start,
        end=args.end,
        seed=args.seed,
        dirty_rate=args.dirty_rate,
        truth=args.truth,
        truth_as_of=tuple(args.truth_as_of or ()),
        churn_window_days=args.churn_window_days,
        behaviour=BehaviourConfig(
            annual_churn=args.annual_churn,
            loyalty_effect=args.loyalty_effect,
            engagement_effect=args.engagement_effect,
            satisfaction_effect=args.satisfaction_effect,
            frequency_effect=args.frequency_effect,
        ),
    )
