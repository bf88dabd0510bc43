"""The export loader on the shipped example: mapping, time zones, currencies,
idempotence, later exports, bad rows counted, bad files refused untouched."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from loader.cli import main
from loader.notes import REJECT_REASON_OF_TYPE, UNKNOWN_CATEGORY
from tests.conftest import query
from warehouse.contract import RAW_TABLES, REJECT_REASONS

EXAMPLE = Path(__file__).parents[2] / "examples" / "shop_export"
MAPPING = EXAMPLE / "mapping.yml"
ORDERS_HEADER = "Order Number;Customer;Created;State;Total;Discount;Items;Currency"


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def raw_counts(db: Path) -> dict[str, int]:
    return {t: query(db, f"select count(*) from raw.{t}")[0][0] for t in RAW_TABLES}


@pytest.fixture
def example(tmp_path) -> Path:
    """A copy of the example export that a test may change."""
    return Path(shutil.copytree(EXAMPLE, tmp_path / "export"))


def test_example_export_lands_in_the_raw_contract(tmp_path, capsys):
    db = tmp_path / "wh.duckdb"
    code, out, _ = run([str(MAPPING), "--db", str(db)], capsys)
    assert code == 0
    counts = raw_counts(db)
    csv_rows = len((EXAMPLE / "orders.csv").read_text().splitlines()) - 1
    assert counts["orders"] == csv_rows
    assert (
        counts["site_visits"]
        == query(db, f"select count(*) from read_parquet('{EXAMPLE / 'sessions.parquet'}')")[0][0]
    )
    assert counts["loyalty_events"] == counts["reviews"] == counts["support_tickets"] == 0
    # Customers derived from the orders: first order is the sign-up, attributes unknown.
    assert (
        counts["customers"]
        == query(
            db, "select count(distinct customer_id) from raw.orders where customer_id is not null"
        )[0][0]
    )
    assert (
        query(
            db,
            "select count(*) from raw.customers c join (select customer_id,"
            " min(ordered_at) as first from raw.orders group by 1) o using (customer_id)"
            " where c.signup_at = o.first and c.segment is null",
        )[0][0]
        == counts["customers"]
    )
    # Berlin local time stored as UTC (winter +1, summer +2); decimal commas; GBP in EUR.
    first = query(db, "select * from raw.orders where order_id = 'ACME-000000008833'")[0]
    assert first[2] == datetime(2019, 1, 2, 9, 23) and first[3] == "completed"
    assert float(first[4]) == 38.06
    gbp_line = next(
        line for line in (EXAMPLE / "orders.csv").read_text().splitlines() if line.endswith("GBP")
    )
    order_id, *_, total, _, _, _ = gbp_line.split(";")
    stored = query(db, "select order_value from raw.orders where order_id = ?", [order_id])[0][0]
    assert stored == pytest.approx(float(total.replace(",", ".")) * 1.1696)
    statuses = dict(query(db, "select status, count(*) from raw.orders group by 1"))
    assert set(statuses) == {"completed", "cancelled", "returned", "Pending payment"}
    devices = {r[0] for r in query(db, "select distinct device from raw.site_visits")}
    assert devices == {"mobile", "desktop", "tablet", "app"}
    # Every row stamped; the first load is a backfill: known from its own event time
    # (a row without one from the load time).
    stamps = query(
        db,
        "select count(*) filter (where _loaded_at is distinct from ordered_at),"
        " count(*) filter (where ordered_at is null and _loaded_at > '2026-01-01')"
        " from raw.orders",
    )
    assert stamps == [(3, 3)]
    # The deliberately broken rows are loaded, counted and announced.
    assert "3 rows with an unparseable ordered_at" in out
    assert "2 rows with a status outside" in out
    assert "1 row without customer_id: quarantined as missing_customer_id" in out


def test_loading_twice_adds_nothing_and_a_later_export_appends_only_new_rows(
    tmp_path, example, capsys
):
    db = tmp_path / "wh.duckdb"
    assert run([str(example / "mapping.yml"), "--db", str(db)], capsys)[0] == 0
    before = raw_counts(db)
    code, out, _ = run([str(example / "mapping.yml"), "--db", str(db)], capsys)
    assert code == 0 and "skipped, same content already loaded" in out
    assert raw_counts(db) == before

    # The next month's export repeats the last 500 orders and adds two new ones.
    lines = (example / "orders.csv").read_text().splitlines()
    new = [
        "ACME-900000000001;cust_1;02/07/2021 10:00;Delivered;10,00;0,00;1;EUR",
        "ACME-900000000002;cust_new;03/07/2021 11:00;Delivered;20,00;0,00;2;GBP",
    ]
    later = tmp_path / "orders_2021_07.csv"
    later.write_text("\n".join([ORDERS_HEADER, *lines[-500:], *new]) + "\n")
    # Sessions re-exported in another file (no ids: derived ids must match).
    sessions = tmp_path / "sessions_again.parquet"
    with duckdb.connect() as con:
        con.execute(
            f"copy (select * from read_parquet('{example / 'sessions.parquet'}') limit 1000)"
            f" to '{sessions}' (format parquet)"
        )
    argv = [str(example / "mapping.yml"), "--db", str(db), "--file", f"orders={later}"]
    code, out, _ = run([*argv, "--file", f"site_visits={sessions}"], capsys)
    assert code == 0, out
    after = raw_counts(db)
    assert after["orders"] == before["orders"] + 2
    assert after["site_visits"] == before["site_visits"]
    assert after["customers"] == before["customers"] + 1
    # Later loads are stamped with the load time, not the event time.
    stamped = query(
        db, "select _loaded_at > ordered_at from raw.orders where order_id like 'ACME-9%'"
    )
    assert stamped == [(True,), (True,)]


def write_orders(path: Path, header: str, *rows: str) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def edit_mapping(export: Path, old: str, new: str) -> None:
    mapping = export / "mapping.yml"
    mapping.write_text(mapping.read_text().replace(old, new))


ROW = "ACME-1;cust_1;02/01/2019 10:23;Delivered;38,06;0,00;1;EUR"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            lambda d: write_orders(
                d / "orders.csv", ORDERS_HEADER.replace(";Items", ""), ROW.replace(";1;EUR", ";EUR")
            ),
            "no column 'Items' for item_count",
            id="mapped-column-absent",
        ),
        pytest.param(
            lambda d: edit_mapping(d, "      item_count: Items\n", ""),
            "missing required column item_count of raw.orders",
            id="required-column-unmapped",
        ),
        pytest.param(
            lambda d: write_orders(d / "orders.csv", ORDERS_HEADER, *[ROW.replace("/", "-")] * 3),
            "column 'Created' (ordered_at): 3 of 3 values are not timestamps of format",
            id="unparseable-timestamp-column",
        ),
        pytest.param(
            lambda d: (d / "orders.csv").write_text(""),
            "orders.csv: empty file",
            id="empty-file",
        ),
        pytest.param(
            lambda d: write_orders(d / "orders.csv", ORDERS_HEADER),
            "orders.csv: empty file (a header but no rows)",
            id="header-only",
        ),
        pytest.param(
            lambda d: edit_mapping(d, "order_value: Total", "order_total: Total"),
            "columns.order_total: not a column of raw.orders (did you mean order_value?)",
            id="mapping-names-unknown-contract-column",
        ),
    ],
)
def test_bad_files_fail_in_one_line_and_leave_the_warehouse_untouched(
    tmp_path, example, capsys, change, expected
):
    db = tmp_path / "wh.duckdb"
    change(example)
    code, out, err = run([str(example / "mapping.yml"), "--db", str(db)], capsys)
    assert code == 1 and out == ""
    assert len(err.strip().splitlines()) == 1 and expected in err, err
    assert not db.exists()  # a new warehouse is not left half-written

    # An existing warehouse is left exactly as it was (sessions are fine, orders not).
    shutil.copytree(EXAMPLE, tmp_path / "good")
    assert run([str(tmp_path / "good" / "mapping.yml"), "--db", str(db)], capsys)[0] == 0
    before = raw_counts(db)
    shutil.copy(tmp_path / "good" / "sessions.parquet", example / "sessions.parquet")
    assert run([str(example / "mapping.yml"), "--db", str(db)], capsys)[0] == 1
    assert raw_counts(db) == before
    assert query(db, "select count(*) from loader.loaded_files")[0][0] == 2


def test_bad_arguments_fail_in_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as exited:
        main([str(MAPPING), "--loaded-at", "yesterday"])
    assert exited.value.code == 2
    assert "--loaded-at 'yesterday'" in capsys.readouterr().err
    code, _, err = run([str(tmp_path / "none.yml")], capsys)
    assert code == 1 and err.startswith("error: cannot read mapping")


def test_the_reasons_the_loader_announces_are_reasons_staging_gives():
    assert set(REJECT_REASON_OF_TYPE.values()) | {UNKNOWN_CATEGORY} <= set(REJECT_REASONS)
    typed = {kind for columns in RAW_TABLES.values() for kind in columns.values()}
    assert typed - {"VARCHAR"} <= set(REJECT_REASON_OF_TYPE), "a reason for every parsed type"
