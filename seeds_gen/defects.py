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

import numpy as np

# defect -> the reject_reason the feature store must give the row (None: not rejected;
# duplicates are removed by deduplication, late arrivals are valid rows).
REJECT_REASON = {
    "duplicate": None,
    "late_arrival": None,
    "missing_customer_id": "missing_customer_id",
    "unknown_customer_id": "unknown_customer_id",
    "missing_timestamp": "missing_timestamp",
    "future_timestamp": "future_timestamp",
    "event_before_signup": "event_before_signup",
    "unknown_category": "unknown_category",
    "negative_value": "negative_value",
    "absurd_value": "absurd_value",
    "invalid_rating": "invalid_rating",
}
EVENT_DEFECTS = (
    "duplicate",
    "late_arrival",
    "missing_customer_id",
    "unknown_customer_id",
    "missing_timestamp",
    "future_timestamp",
    "event_before_signup",
)
TABLE_DEFECTS = {
    "customers": ("duplicate", "missing_customer_id", "future_timestamp"),
    "orders": (*EVENT_DEFECTS, "unknown_category", "negative_value", "absurd_value"),
    "site_visits": (*EVENT_DEFECTS, "unknown_category", "negative_value", "absurd_value"),
    "loyalty_events": (*EVENT_DEFECTS, "unknown_category", "negative_value", "absurd_value"),
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
CATEGORY_COLUMN = {
    "orders": "status",
    "site_visits": "device",
    "loyalty_events": "event_type",
    "support_tickets": "category",
}
UNKNOWN_CATEGORY = -1  # the writer renders it as a value outside the accepted set


def inject(
    rng: np.random.Generator,
    table: str,
    rows: dict[str, np.ndarray],
    rate: float,
    horizon: float,
    signup: np.ndarray,
    customer_offset: int,
    next_phantom_customer: int,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], int]:
    """Add bad rows to one table chunk.

    `rows` has an `id` column (int), `customer` (global customer number, -1 =
    null), `at` and `loaded` (float days; NaN = null); `signup` is indexed by
    `customer - customer_offset`. Returns the new rows, the record (position
    of each defective row in the new rows, defect) and the next unused
    phantom customer number (phantoms are ids no customer row has).
    """
    n = rows["id"].size
    n_bad = int(round(rate * n))
    if n_bad == 0:
        return (
            rows,
            {"row": np.empty(0, np.int64), "defect": np.empty(0, object)},
            next_phantom_customer,
        )
    defects = np.asarray(TABLE_DEFECTS[table], dtype=object)
    kinds = defects[rng.integers(0, defects.size, n_bad)]
    # Sources: distinct real rows well inside the horizon, so shifted load times stay in it.
    eligible = np.flatnonzero(rows["loaded"] < horizon - 100.0)
    sources = rng.choice(eligible, size=min(n_bad, eligible.size), replace=False)
    kinds = kinds[: sources.size]

    late = sources[kinds == "late_arrival"]
    rows["loaded"][late] = rows["at"][late] + rng.uniform(10.0, 90.0, late.size)

    copy_src = sources[kinds != "late_arrival"]
    copy_kind = kinds[kinds != "late_arrival"]
    copies = {name: col[copy_src].copy() for name, col in rows.items()}
    m = copy_src.size
    is_dup = copy_kind == "duplicate"
    next_id = int(rows["id"].max()) + 1 if n else 0
    copies["id"] = np.where(is_dup, copies["id"], next_id + np.arange(m))
    copies["loaded"] = np.where(
        is_dup, copies["loaded"] + rng.uniform(0.5, 5.0, m), copies["loaded"]
    )

    def corrupt(kind: str, column: str, values: np.ndarray) -> None:
        sel = copy_kind == kind
        copies[column] = np.where(sel, values, copies[column])

    corrupt("missing_customer_id", "customer", np.full(m, -1))
    phantoms = next_phantom_customer + np.arange(m)
    corrupt("unknown_customer_id", "customer", phantoms)
    corrupt("missing_timestamp", "at", np.full(m, np.nan))
    corrupt("future_timestamp", "at", copies["loaded"] + rng.uniform(1.0, 30.0, m))
    if table == "customers":
        # A customer row with a future sign-up also needs an id of its own.
        corrupt("future_timestamp", "customer", phantoms)
    else:
        source_signup = signup[rows["customer"][copy_src] - customer_offset]
        before = source_signup - rng.uniform(1.0, 60.0, m)
        corrupt("event_before_signup", "at", before)
    if table in CATEGORY_COLUMN:
        corrupt("unknown_category", CATEGORY_COLUMN[table], np.full(m, UNKNOWN_CATEGORY))
    if table in VALUE_COLUMN:
        column, absurd = VALUE_COLUMN[table]
        corrupt("negative_value", column, -np.abs(copies[column]) - 1)
        corrupt("absurd_value", column, np.full(m, absurd, dtype=copies[column].dtype))
    if table == "reviews":
        corrupt("invalid_rating", "rating", rng.choice(np.array([0, 6, 9, 10]), m))

    out = {name: np.concatenate([col, copies[name]]) for name, col in rows.items()}
    record = {
        "row": np.r_[late, n + np.arange(m)],
        "defect": np.r_[np.full(late.size, "late_arrival", dtype=object), copy_kind],
    }
    return out, record, next_phantom_customer + m
