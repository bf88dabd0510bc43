"""Bad values are bad rows: loaded as they are and counted, each note naming the
reason staging quarantines them with. Ids are normalised, the backfill stamp
never passes the load time, and a file is not loaded twice under two mappings."""

from __future__ import annotations

import math
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from loader import load as load_module
from loader.load import load as load_mapping
from loader.mapping import read_mapping
from loader.notes import MAX_BAD_SHARE
from tests.conftest import query
from tests.loader.hostile import (
    COLUMNS,
    SECRET,
    assert_refused,
    assert_refused_on,
    fingerprint,
    load,
    order_rows,
    write_csv,
    write_mapping,
)
from warehouse import database
from warehouse.contract import REJECT_REASONS


def test_non_finite_and_huge_amounts_are_loaded_and_counted(export, tmp_path, capsys):
    rows = order_rows()
    for i, value in enumerate(["NaN", "inf", "-Infinity", "1e309", "1e16", "2.5e300", "-1e17"]):
        rows[i]["order_value"] = value
    rows[10]["discount_amount"] = "nan"
    write_csv(export / "orders.csv", rows)
    db = tmp_path / "wh.duckdb"
    out = load(export / "mapping.yml", db, capsys).out
    assert "200 new of 200 rows" in out
    assert (
        "4 rows with a non-finite order_value (NaN or infinity): quarantined as non_finite_value"
        in out
    )
    assert "2 rows with an order_value of 1e+16 or more: quarantined as absurd_value" in out
    assert "1 row with an order_value of -1e+16 or less: quarantined as negative_value" in out
    assert "1 row with a non-finite discount_amount" in out
    values = [r[0] for r in query(db, "select order_value from raw.orders order by order_id")]
    assert math.isnan(values[0]) and values[1:4] == [math.inf, -math.inf, math.inf]
    assert values[4:7] == [1e16, 2.5e300, -1e17]


def test_emoji_zero_width_and_full_width_ids_are_normalised(export, tmp_path, capsys):
    rows = order_rows()
    rows[0]["customer_id"] = "C000\u200b"  # zero-width space: the same customer as C000
    rows[1]["customer_id"] = "\uff23\uff10\uff10\uff11"  # full-width C001
    rows[2]["customer_id"] = "\u00a0C002 "  # no-break space
    rows[3]["customer_id"] = "🛒 C003"  # an emoji is a character of the id: kept
    rows[4]["order_id"] = f"{SECRET}-00004\u200d"  # zero-width joiner in the event id
    write_csv(export / "orders.csv", rows)
    db = tmp_path / "wh.duckdb"
    out = load(export / "mapping.yml", db, capsys).out
    assert "3 rows with a customer_id normalised (zero-width" in out
    assert "1 row with an order_id normalised" in out
    ids = [r[0] for r in query(db, "select customer_id from raw.orders order by order_id")]
    assert ids[:4] == ["C000", "C001", "C002", "🛒 C003"]
    assert query(db, "select count(*) from raw.orders where order_id = ?", [f"{SECRET}-00004"])
    # Derived customers are grouped by the normalised id: 40 plus the emoji one.
    assert query(db, "select count(*) from raw.customers") == [(41,)]


def test_derived_ids_are_computed_from_normalised_values(export, tmp_path, capsys):
    rows = order_rows(orders=2)
    twin = dict(rows[0], customer_id=rows[0]["customer_id"] + "\u200b")
    write_csv(export / "orders.csv", [rows[0], twin, rows[1]], header=list(rows[0])[1:])
    db = tmp_path / "wh.duckdb"
    out = load(export / "mapping.yml", db, capsys).out
    assert "no order_id in the export: derived from customer_id, ordered_at" in out
    # The twin is the same order: one id (staging keeps the first copy).
    assert query(db, "select count(distinct order_id) from raw.orders") == [(2,)]


def test_a_9999_order_in_a_backfill_is_stamped_at_load_time(export, tmp_path, capsys):
    rows = order_rows()
    rows[0]["ordered_at"] = "9999-12-31 23:00:00"
    rows[1]["ordered_at"] = "0001-01-01 00:00:00"
    rows[2]["ordered_at"] = "infinity"  # a timestamp DuckDB reads, but no time at all
    write_csv(export / "orders.csv", rows)
    db = tmp_path / "wh.duckdb"
    before = datetime.utcnow().replace(microsecond=0)
    out = load(export / "mapping.yml", db, capsys, "--loaded-at", "event").out
    assert "1 row dated after their _loaded_at (the future): quarantined as future_timestamp" in out
    assert "1 row dated before 1990-01-01: quarantined as timestamp_out_of_range" in out
    assert "1 row with an unparseable ordered_at: quarantined as missing_timestamp" in out
    stamp = query(db, f"select _loaded_at from raw.orders where order_id = '{SECRET}-00000'")
    assert before <= stamp[0][0] <= datetime.utcnow() + timedelta(seconds=1)
    # Every other row is known from its own event time.
    assert query(
        db,
        "select count(*) from raw.orders where ordered_at < '9999-01-01'"
        " and _loaded_at <> ordered_at",
    ) == [(0,)]


def write_million(path: Path, garbage: int) -> Path:
    """1,000,000 orders, the first `garbage` of them with a timestamp that is none."""
    with duckdb.connect() as con:
        con.execute(
            f"""copy (select '{SECRET}-' || i as order_id, 'C' || (i % 5000) as customer_id,
                case when i < {garbage} then 'garbage-' || i
                     else strftime(timestamp '2020-01-01' + to_minutes(i), '%Y-%m-%d %H:%M')
                end as ordered_at,
                'completed' as status, i % 100 + 0.5 as order_value,
                0 as discount_amount, 1 as item_count
            from range(1000000) as t(i)) to '{path}' (header)"""
        )
    return path


def test_a_million_rows_with_half_of_the_timestamps_garbage(export, warehouse, capsys):
    """Exactly MAX_BAD_SHARE (half) of a column failing is still bad rows: loaded and
    counted. One more, and the column is taken for the wrong one and refused."""
    assert MAX_BAD_SHARE == 0.5
    mapping = export / "mapping.yml"
    half = write_million(export / "half.csv", 500_000)
    db = export.parent / "million.duckdb"
    out = load(mapping, db, capsys, "--file", f"orders={half}").out
    assert "1,000,000 new of 1,000,000 rows" in out
    assert "500,000 rows with an unparseable ordered_at: quarantined as missing_timestamp" in out
    more = write_million(export / "more.csv", 500_001)
    assert_refused_on(
        warehouse,
        [mapping, "--file", f"orders={more}"],
        capsys,
        "more.csv: column 'ordered_at' (ordered_at): 500,001 of 1,000,000 values are not ISO"
        " 8601 timestamps (set timestamp_format, e.g. '%d/%m/%Y %H:%M'), the first at line 2",
    )


def test_a_file_loaded_with_a_mapping_mistake_is_not_loaded_again_with_the_fix(
    export, tmp_path, capsys
):
    db = tmp_path / "wh.duckdb"
    wrong = write_mapping(export, timezone="America/New_York")
    load(wrong, db, capsys)
    fixed = write_mapping(export, timezone="UTC")
    line = assert_refused_on(
        db,
        [fixed],
        capsys,
        "orders.csv: this content was loaded into raw.orders on",
        "with other mapping settings (timezone); raw tables are append-only, so the rows"
        " loaded then stay as they were (to load it with the new mapping, start a new"
        " warehouse with --db",
    )
    assert "America/New_York" not in line
    # The same settings written differently (comments, order, spelling of defaults) skip.
    text = (
        "# the shop's exports\nsources:\n  orders: {csv: {decimal_separator: '.'},"
        " file: orders.csv, amount_divisor: 1}\ntimezone: America/New_York\n"
    )
    (export / "mapping.yml").write_text(text)
    before = fingerprint(db)
    out = load(export / "mapping.yml", db, capsys).out
    assert "skipped, same content already loaded" in out
    assert fingerprint(db) == before
    # A new export with the corrected mapping loads: only the same content is refused.
    rows = order_rows(orders=201)[200:]
    write_csv(export / "later.csv", rows)
    out = load(fixed, db, capsys, "--file", f"orders={export / 'later.csv'}").out
    assert "1 new of 1 rows" in out


def test_an_interrupted_load_leaves_the_warehouse_as_it_was(export, warehouse, monkeypatch, capsys):
    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(load_module, "insert_new", interrupted)
    assert_refused(
        [export / "mapping.yml"], capsys, warehouse, "interrupted: nothing was loaded", code=130
    )


def every_problem(export: Path) -> Path:
    rows = order_rows()
    rows[0]["ordered_at"] = "not a date"
    rows[1]["ordered_at"] = "9999-01-01 00:00:00"
    rows[2]["ordered_at"] = "1900-01-01 00:00:00"
    rows[3]["order_value"] = "NaN"
    rows[4]["order_value"] = "1e20"
    rows[5]["order_value"] = "-1e20"
    rows[6]["item_count"] = "many"
    rows[7]["status"] = "lost in the mail"
    rows[8]["customer_id"] = ""
    rows[9]["order_id"] = "\u200b"
    rows[10]["order_id"] = "x" * 300
    rows[11]["customer_id"] = "C011\u200b"
    rows[12]["currency"] = "XYZ"
    for row in rows:
        row.setdefault("currency", "EUR")
    write_csv(export / "orders.csv", rows)
    return write_mapping(export, {"currency": {"column": "currency", "rates": {"EUR": 1.0}}})


def test_every_note_names_a_reason_staging_gives(export, tmp_path):
    reports = load_mapping(read_mapping(every_problem(export)), tmp_path / "wh.duckdb", "event")
    notes = [note for report in reports for note in report.notes]
    reasons = {note.reason for note in notes}
    assert reasons - {None} <= set(REJECT_REASONS)
    assert reasons == {
        None,
        "missing_timestamp",
        "future_timestamp",
        "timestamp_out_of_range",
        "non_finite_value",
        "absurd_value",
        "negative_value",
        "missing_value",
        "unknown_category",
        "missing_customer_id",
        "missing_event_id",
        "invalid_id",
    }
    for note in notes:
        assert ("quarantined as" in str(note)) == (note.reason is not None), note
        assert str(note.reason) in str(note) or note.reason is None


@pytest.mark.parametrize("policy", ["now", "2021-07-02T06:00+02:00"])
def test_an_explicit_stamp_is_used_as_given(export, tmp_path, capsys, policy):
    db = tmp_path / "wh.duckdb"
    out = load(export / "mapping.yml", db, capsys, "--loaded-at", policy).out
    stamps = query(db, "select distinct _loaded_at from raw.orders")
    assert len(stamps) == 1
    if policy != "now":
        assert stamps[0][0] == datetime(2021, 7, 2, 4, 0)  # the offset converted to UTC
        assert "the given time 2021-07-02 04:00:00" in out


def test_a_warehouse_that_cannot_be_opened_is_one_line(export, tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    assert_refused_on(blocker / "wh.duckdb", [export / "mapping.yml"], capsys, "a_file")
    assert blocker.read_text() == "not a folder"


def test_quotes_in_names_paths_codes_and_values_are_sql_text(tmp_path, capsys):
    """Every user value reaches SQL through one quoting helper: a quote in a column
    name, a file name, a currency code or a category value is just a character."""
    folder = tmp_path / "it's an export"
    folder.mkdir()
    rows = order_rows()
    header = ['Order "Nº"', "Cust'omer", *COLUMNS[2:], "Cur'rency"]
    renamed = [
        {
            header[0]: r["order_id"],
            header[1]: r["customer_id"],
            **{c: r[c] for c in COLUMNS[2:]},
            "status": "Voided'; drop table raw.orders; --" if i == 0 else r["status"],
            header[-1]: "E'UR",
        }
        for i, r in enumerate(rows)
    ]
    write_csv(folder / "o'rders.csv", renamed, header=header)
    mapping = write_mapping(
        folder,
        {
            "file": "o'rders.csv",
            "columns": {"order_id": header[0], "customer_id": header[1]},
            "currency": {"column": header[-1], "rates": {"E'UR": 2.0}},
            "values": {"status": {"cancelled": ["Voided'; drop table raw.orders; --"]}},
        },
    )
    db = tmp_path / "wh.duckdb"
    assert "200 new of 200 rows" in load(mapping, db, capsys).out
    first = query(
        db, f"select status, order_value from raw.orders where order_id = '{SECRET}-00000'"
    )
    assert first == [("cancelled", 21.0)]


# The loader in a process of its own that stops in the middle of a load (after
# the export is read and checked, before rows are appended) until it is killed.
STOPS_MID_LOAD = """
import sys, time
from pathlib import Path
import loader.load
def stop(*args):
    Path(sys.argv[1]).touch()
    time.sleep(60)
loader.load.insert_new = stop
from loader.cli import main
raise SystemExit(main(sys.argv[2:]))
"""


@pytest.mark.skipif(
    not hasattr(database, "Terminated"),
    reason="SIGTERM is handled by warehouse.database.all_or_nothing once it lands",
)
@pytest.mark.parametrize("existing", [False, True], ids=["new-warehouse", "existing-warehouse"])
def test_sigterm_mid_load_leaves_the_warehouse_as_it_was(export, warehouse, tmp_path, existing):
    db = warehouse if existing else tmp_path / "new.duckdb"
    before = fingerprint(db)
    marker = tmp_path / "mid-load"
    argv = [marker, export / "mapping.yml", "--db", db]
    process = subprocess.Popen(
        [sys.executable, "-c", STOPS_MID_LOAD, *map(str, argv)],
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[2],
    )
    deadline = time.monotonic() + 30
    while not marker.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 128 + signal.SIGTERM, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert fingerprint(db) == before
    assert sorted(p.name for p in db.parent.iterdir() if p.name.startswith(f".{db.name}")) == []
