"""Injection of realistic bad rows (`--dirty-rate`), with a record of each one.

Bad rows are added as corrupted copies of real rows under new ids (or, for
duplicates, under the same id), so the behavioural ground truth stays that of
the clean data. Late arrivals are real rows whose load time is pushed back:
they are valid and must only be hidden from snapshots taken before they
arrived. Each injected row carries exactly one defect, so the reason the
feature store must give it is unambiguous; the record of what was injected is
written to `generator.injected_defects` for the reconciliation tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

# defect -> the reject_reason the feature store must give the row (None: not rejected;
# duplicates are removed by deduplication, late arrivals are valid rows).
REJECT_REASON = {
    "duplicate": None,
    "late_arrival": None,
    "missing_event_id": "missing_event_id",
    "missing_customer_id": "missing_customer_id",
    "unknown_customer_id": "unknown_customer_id",
    "invalid_id": "invalid_id",
    "missing_timestamp": "missing_timestamp",
    "future_timestamp": "future_timestamp",
    "timestamp_out_of_range": "timestamp_out_of_range",
    "event_before_signup": "event_before_signup",
    "unknown_category": "unknown_category",
    "negative_value": "negative_value",
    "absurd_value": "absurd_value",
    "non_finite_value": "non_finite_value",
    "invalid_rating": "invalid_rating",
}
EVENT_DEFECTS = (
    "duplicate",
    "late_arrival",
    "missing_event_id",
    "missing_customer_id",
    "unknown_customer_id",
    "invalid_id",
    "missing_timestamp",
    "future_timestamp",
    "timestamp_out_of_range",
    "event_before_signup",
)
VALUE_DEFECTS = ("unknown_category", "negative_value", "absurd_value")
TABLE_DEFECTS = {
    "customers": (
        "duplicate",
        "missing_customer_id",
        "invalid_id",
        "future_timestamp",
        "timestamp_out_of_range",
    ),
    "orders": (*EVENT_DEFECTS, *VALUE_DEFECTS, "non_finite_value"),
    "site_visits": (*EVENT_DEFECTS, *VALUE_DEFECTS),
    "loyalty_events": (*EVENT_DEFECTS, *VALUE_DEFECTS),
    "reviews": (*EVENT_DEFECTS, "invalid_rating"),
    "support_tickets": (*EVENT_DEFECTS, "unknown_category"),
}
# Column holding the numeric value that negative/absurd defects corrupt, and an
# absurd value for it (far beyond the feature store's plausibility limits).
VALUE_COLUMN = {
    "orders": ("order_value", 2.5e7),
    "site_visits": ("session_seconds", 9_000_000),
    "loyalty_events": ("points", 80_000_000),
}
# The only float column of the raw contract: NaN and infinities can be written there.
NON_FINITE_COLUMN = {"orders": "order_value"}
CATEGORY_COLUMN = {
    "orders": "status",
    "site_visits": "device",
    "loyalty_events": "event_type",
    "support_tickets": "category",
}
UNKNOWN_CATEGORY = -1  # the writer renders it as a value outside the accepted set
MISSING = -1  # an id number the writer renders as null
# Customer numbers from here on are written as over-long ids (invalid_id): the
# number minus the offset, zero-padded to OVERLONG_ID_LENGTH characters.
OVERLONG_ID_OFFSET = 10**12
OVERLONG_ID_LENGTH = 300
# When timestamp_out_of_range rows happened: long before any shop's epoch.
OUT_OF_RANGE_DATE = date(1900, 1, 1)


@dataclass(frozen=True)
class Injection:
    """What the injection needs to know about the chunk besides its rows."""

    rate: float  # bad rows per row
    horizon: float  # days from the first day of data to the horizon
    out_of_range_day: float  # OUT_OF_RANGE_DATE, in days from the first day of data
    signup: np.ndarray  # sign-up day per customer of the chunk
    customer_offset: int  # the chunk's first customer number


def inject(
    rng: np.random.Generator,
    table: str,
    rows: dict[str, np.ndarray],
    ctx: Injection,
    next_phantom_customer: int,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], int]:
    """Add bad rows to one table chunk.

    `rows` has an `id` column (int), `customer` (global customer number, -1 =
    null), `at` and `loaded` (float days; NaN = null). Returns the new rows, the
    record (position of each defective row in the new rows, defect) and the next
    unused phantom customer number (phantoms are ids no customer row has).
    """
    n = rows["id"].size
    n_bad = int(round(ctx.rate * n))
    if n_bad == 0:
        return (
            rows,
            {"row": np.empty(0, np.int64), "defect": np.empty(0, object)},
            next_phantom_customer,
        )
    defects = np.asarray(TABLE_DEFECTS[table], dtype=object)
    kinds = defects[rng.integers(0, defects.size, n_bad)]
    # Sources: distinct real rows well inside the horizon, so shifted load times stay in it.
    eligible = np.flatnonzero(rows["loaded"] < ctx.horizon - 100.0)
    sources = rng.choice(eligible, size=min(n_bad, eligible.size), replace=False)
    kinds = kinds[: sources.size]

    late = sources[kinds == "late_arrival"]
    rows["loaded"][late] = rows["at"][late] + rng.uniform(10.0, 90.0, late.size)

    copy_src = sources[kinds != "late_arrival"]
    copy_kind = kinds[kinds != "late_arrival"]
    copies = _copies(rng, rows, copy_src, copy_kind == "duplicate")
    m = copy_src.size
    phantoms = next_phantom_customer + np.arange(m)
    corrupted = _Corruption(copies, copy_kind)
    corrupted.ids(table, phantoms)
    corrupted.times(rng, table, ctx, rows["customer"][copy_src])
    corrupted.values(rng, table)

    out = {name: np.concatenate([col, copies[name]]) for name, col in rows.items()}
    record = {
        "row": np.r_[late, n + np.arange(m)],
        "defect": np.r_[np.full(late.size, "late_arrival", dtype=object), copy_kind],
    }
    return out, record, next_phantom_customer + m


def _copies(
    rng: np.random.Generator, rows: dict[str, np.ndarray], source: np.ndarray, is_dup: np.ndarray
) -> dict[str, np.ndarray]:
    """Copies of the source rows: duplicates keep their id and load again later,
    every other copy gets a new id (it is corrupted next)."""
    copies = {name: col[source].copy() for name, col in rows.items()}
    m = source.size
    next_id = int(rows["id"].max()) + 1
    copies["id"] = np.where(is_dup, copies["id"], next_id + np.arange(m))
    copies["loaded"] = np.where(
        is_dup, copies["loaded"] + rng.uniform(0.5, 5.0, m), copies["loaded"]
    )
    return copies


@dataclass
class _Corruption:
    """Corrupts each copied row as its defect says, one column at a time."""

    copies: dict[str, np.ndarray]
    kinds: np.ndarray  # the defect of each copy

    def put(self, kind: str, column: str, values: np.ndarray | float) -> None:
        self.copies[column] = np.where(self.kinds == kind, values, self.copies[column])

    def ids(self, table: str, phantoms: np.ndarray) -> None:
        self.put("missing_event_id", "id", MISSING)
        self.put("missing_customer_id", "customer", MISSING)
        self.put("unknown_customer_id", "customer", phantoms)
        self.put("invalid_id", "customer", OVERLONG_ID_OFFSET + phantoms)
        if table == "customers":
            # A customer row dated wrong needs an id of its own, or it is a duplicate.
            self.put("future_timestamp", "customer", phantoms)
            self.put("timestamp_out_of_range", "customer", phantoms)

    def times(
        self, rng: np.random.Generator, table: str, ctx: Injection, customers: np.ndarray
    ) -> None:
        m = self.kinds.size
        self.put("missing_timestamp", "at", np.nan)
        self.put("future_timestamp", "at", self.copies["loaded"] + rng.uniform(1.0, 30.0, m))
        self.put("timestamp_out_of_range", "at", ctx.out_of_range_day)
        if table != "customers":
            signup = ctx.signup[customers - ctx.customer_offset]
            self.put("event_before_signup", "at", signup - rng.uniform(1.0, 60.0, m))

    def values(self, rng: np.random.Generator, table: str) -> None:
        m = self.kinds.size
        if table in CATEGORY_COLUMN:
            self.put("unknown_category", CATEGORY_COLUMN[table], UNKNOWN_CATEGORY)
        if table in VALUE_COLUMN:
            column, absurd = VALUE_COLUMN[table]
            self.put("negative_value", column, -np.abs(self.copies[column]) - 1)
            self.put("absurd_value", column, np.full(m, absurd, dtype=self.copies[column].dtype))
        if table in NON_FINITE_COLUMN:
            non_finite = rng.choice(np.array([np.nan, np.inf, -np.inf]), m)
            self.put("non_finite_value", NON_FINITE_COLUMN[table], non_finite)
        if table == "reviews":
            self.put("invalid_rating", "rating", rng.choice(np.array([0, 6, 9, 10]), m))
