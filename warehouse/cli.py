"""Command-line conventions shared by every CLI of the project."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from warehouse.database import DB_PATH_ENV_VAR, DEFAULT_DB_PATH


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line naming the problem (exit 2)."""

    def error(self, message: str) -> NoReturn:
        print(f"error: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(2)

    def add_db_option(self) -> None:
        """`--db PATH`, the one way every CLI is pointed at another warehouse."""
        self.add_argument(
            "--db",
            help=f"warehouse file (default: ${DB_PATH_ENV_VAR}, else {DEFAULT_DB_PATH})",
        )
