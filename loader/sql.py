"""The one way the loader puts a user's value into SQL: file paths, column names,
formats, currency codes, category values and time zones come from the mapping
or the export, so each goes through `identifier` or `literal` (or is a bound
parameter). Nothing else is interpolated into a statement."""

from __future__ import annotations

import math
from datetime import date, datetime

from warehouse.database import quote_identifier, quote_literal

identifier = quote_identifier  # a column or table name as a quoted SQL identifier


def literal(value: object) -> str:
    """A Python value as a SQL literal: numbers as numbers, everything else as text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise ValueError(f"not a finite number: {value!r}")  # the mapping refuses these
        return repr(value)
    if isinstance(value, (date, datetime)):
        value = value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    return quote_literal(str(value))


def as_text(expression: str) -> str:
    """SQL: the value as trimmed text, NULL when empty."""
    return f"nullif(trim(cast({expression} as varchar)), '')"
