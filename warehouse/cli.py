"""Command-line conventions shared by every CLI of the project."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from datetime import date
from typing import NoReturn

from warehouse.database import DB_PATH_ENV_VAR, DEFAULT_DB_PATH


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line naming the problem (exit 2)."""

    def error(self, message: str) -> NoReturn:
        print(f"error: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(2)

    def add_db_option(self, spark: bool = False) -> None:
        """`--db PATH`, the one way every CLI is pointed at another warehouse; with
        `spark`, also `--target spark` and `--spark-dir` (docs/spark.md)."""
        self.add_argument(
            "--db",
            help=f"warehouse file (default: ${DB_PATH_ENV_VAR}, else {DEFAULT_DB_PATH})",
        )
        if spark:
            self.add_argument(
                "--target",
                choices=["duckdb", "spark"],
                default="duckdb",
                help="the engine whose marts to use: duckdb (--db) or spark (--spark-dir);"
                " default duckdb",
            )
            self.add_argument(
                "--spark-dir",
                help="with --target spark: the local Spark warehouse folder"
                " (default: $CHURN_SPARK_DIR, else data/spark)",
            )


def number(
    kind: type[int] | type[float],
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> Callable[[str], int | float]:
    """An argparse `type`: a finite int or float within [low, high] (an open end
    with low_open / high_open); anything else is a one-line usage error."""
    noun = "a whole number" if kind is int else "a finite number"
    wanted = _range_text(low, high, low_open, high_open)

    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {noun}") from None
        too_low = low is not None and (value <= low if low_open else value < low)
        too_high = high is not None and (value >= high if high_open else value > high)
        if not math.isfinite(value) or too_low or too_high:
            raise argparse.ArgumentTypeError(f"must be {noun} {wanted}, got {text!r}")
        return value

    return parse


def _range_text(low, high, low_open: bool, high_open: bool) -> str:
    """`in [0, 1)`, `>= 0` or `< 5`: the range a number must be in, as the help says it."""
    if low is not None and high is not None:
        return f"in {'(' if low_open else '['}{low:,}, {high:,}{')' if high_open else ']'}"
    if low is not None:
        return f"{'>' if low_open else '>='} {low:,}"
    if high is not None:
        return f"{'<' if high_open else '<='} {high:,}"
    return "(not NaN or infinite)"


def iso_date(text: str) -> date:
    """An argparse `type`: a date written YYYY-MM-DD."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None
