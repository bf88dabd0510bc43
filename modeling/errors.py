"""The one error type of the modeling layer, and how CLIs report it."""

from __future__ import annotations

import sys
from collections.abc import Callable

from warehouse.database import WarehouseError


class ModelingError(Exception):
    """A problem with the inputs (data, manifest, registry) that the user must fix.
    Its message is one line naming the problem."""


def run_cli(main: Callable[[], None]) -> None:
    """Run a CLI entry point: a ModelingError or a warehouse file that cannot be
    used becomes `error: ...` and exit status 1."""
    try:
        main()
    except (ModelingError, WarehouseError) as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(1) from None
