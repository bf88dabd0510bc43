"""Property: whatever cells of a valid export are corrupted (emptied, garbage,
NaN or infinity, huge numbers, far-past or far-future dates, zero-width ids,
unknown statuses), the loader loads every row, `dbt build` stays green, and every
raw row is accounted for: raw = clean + duplicates removed + quarantined.

A dbt build takes 15-20 s, so the corrupted exports hypothesis draws (a few) are
loaded one after another into one warehouse, each with ids of its own, and the
warehouse is built once at the end."""

from __future__ import annotations

import string

import hypothesis.strategies as st
from hypothesis import HealthCheck, given, settings

from loader.cli import main
from tests.conftest import query
from tests.dbt_runner import run_dbt
from tests.loader.hostile import COLUMNS, order_rows, write_csv, write_mapping
from warehouse.contract import RAW_TABLES

ROWS = 200
IDS = ("order_id", "customer_id")
NUMBERS = ("order_value", "discount_amount", "item_count")
CORRUPTIONS = {
    "empty": st.just(""),
    "garbage": st.text(string.ascii_letters + string.punctuation + " ", min_size=1, max_size=12),
    "non_finite": st.sampled_from(["NaN", "nan", "inf", "-Infinity", "1e309"]),
    "huge": st.sampled_from(["1e16", "-1e17", "1e300", "99999999999999999999", "2147483648"]),
    "far_date": st.sampled_from(
        ["0001-01-01 00:00:00", "1900-01-01 00:00:00", "2999-01-01 00:00:00", "9999-12-31 23:59"]
    ),
    "zero_width": st.sampled_from(["\u200b", "\ufeff", "\u00a0", "\u200d"]),
    "unknown_status": st.sampled_from(["Shipped", "pending payment", "REFUNDED ", "?"]),
}


@st.composite
def corruptions(draw) -> list[tuple[int, str, str, str]]:
    """Cells to corrupt: (row, column, value, kind); each kind where it makes sense."""
    cells = []
    for _ in range(draw(st.integers(1, 40))):
        kind = draw(st.sampled_from(sorted(CORRUPTIONS)))
        columns = {
            "far_date": ["ordered_at"],
            "zero_width": list(IDS),
            "unknown_status": ["status"],
            "non_finite": list(NUMBERS),
            "huge": list(NUMBERS),
        }.get(kind, COLUMNS)
        cells.append(
            (
                draw(st.integers(0, ROWS - 1)),
                draw(st.sampled_from(columns)),
                draw(CORRUPTIONS[kind]),
                kind,
            )
        )
    return cells


def corrupted_export(folder, example: int, cells) -> list[dict[str, str]]:
    """The valid export with ids of this example's own, then the cells corrupted."""
    rows = order_rows(orders=ROWS, customers=40)
    for row in rows:
        row["order_id"] = f"E{example}-{row['order_id']}"
        row["customer_id"] = f"E{example}-{row['customer_id']}"
    for index, column, value, kind in cells:
        row = rows[index]
        row[column] = row[column] + value if kind == "zero_width" else value
    write_csv(folder / "orders.csv", rows)
    return rows


def reconciliation(db, table: str) -> tuple[int, int, int, int]:
    """(raw, clean, duplicates removed, quarantined) rows of a raw table after the build."""
    model = (
        "staging.stg_shop__customers"
        if table == "customers"
        else f"intermediate.int_{table}_validated"
    )
    return query(
        db,
        f"""select (select count(*) from raw.{table}),
            (select count(*) from {model} where reject_reason is null),
            (select coalesce(sum(copies_loaded - 1), 0) from {model}),
            (select count(*) from marts.quarantined_rows where source_table = ?)""",
        [table],
    )[0]


def test_corrupted_exports_load_build_green_and_reconcile(tmp_path, capsys):
    db = tmp_path / "warehouse.duckdb"
    loaded = []

    @settings(
        max_examples=5,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(cells=corruptions(), policy=st.sampled_from(["event", "now"]))
    def load_corrupted(cells, policy):
        folder = tmp_path / f"example{len(loaded)}"
        folder.mkdir()
        corrupted_export(folder, len(loaded), cells)
        code = main([str(write_mapping(folder)), "--db", str(db), "--loaded-at", policy])
        out, err = capsys.readouterr()
        assert code == 0 and err == "", err
        assert f"{ROWS:,} rows from" in out, out  # every row read: nothing dropped
        loaded.append((policy, cells))

    load_corrupted()
    result = run_dbt(
        # The unit tests do not read the warehouse (tests/dbt runs them).
        ["build", "--exclude", "resource_type:unit_test"],
        db,
        tmp_path / "target",
        check=False,
    )
    assert result.returncode == 0, f"{loaded}\n{result.stdout[-4000:]}"
    for table in RAW_TABLES:
        raw, clean, duplicates, quarantined = reconciliation(db, table)
        assert raw == clean + duplicates + quarantined, (table, loaded)
