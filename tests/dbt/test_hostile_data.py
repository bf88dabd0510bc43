"""No value in a raw table can stop or corrupt the build, and a wrong var is refused
before anything runs: the feature store's half of the hostile-input rules."""

from __future__ import annotations

import re
from datetime import date
from types import SimpleNamespace

import duckdb
import jinja2
import pytest
import yaml

from tests.conftest import query
from tests.dbt_runner import REPO, copy_warehouse, run_dbt
from warehouse.contract import RAW_TABLES

# (order id, customer id, event time, order value, item count, load time) -> reason
HOSTILE_ORDERS = {
    ("H-nan", "C000000001", "2025-06-01 10:00", float("nan"), 1, "2025-06-01 11:00"): (
        "non_finite_value"
    ),
    ("H-inf", "C000000001", "2025-06-01 10:00", float("inf"), 1, "2025-06-01 11:00"): (
        "non_finite_value"
    ),
    ("H-1e16", "C000000001", "2025-06-01 10:00", 1e16, 1, "2025-06-01 11:00"): "absurd_value",
    ("H-1e308", "C000000001", "2025-06-01 10:00", 1e308, 1, "2025-06-01 11:00"): "absurd_value",
    ("H-items", "C000000001", "2025-06-01 10:00", 5.0, 2**31 - 1, "2025-06-01 11:00"): (
        "absurd_value"
    ),
    ("H-0001", "C000000001", "0001-01-01 10:00", 10.0, 1, "0001-01-01 11:00"): (
        "timestamp_out_of_range"
    ),
    # A backfill of far-future or typo'd dates that nothing else catches.
    ("H-9999", "C000000001", "9999-06-01 10:00", 10.0, 1, "9999-06-01 11:00"): (
        "isolated_timestamp"
    ),
    ("H-2032", "C000000002", "2032-06-01 10:00", 10.0, 1, "2032-06-01 11:00"): (
        "isolated_timestamp"
    ),
    ("H-longid", "C" * 1000, "2025-06-01 10:00", 10.0, 1, "2025-06-01 11:00"): "invalid_id",
}
# Spellings of an existing customer id that must count as that customer.
VARIANTS = {
    "H-zw": lambda cid: cid + "\u200b",  # zero-width space
    "H-fw": lambda cid: "".join(chr(ord(c) + 0xFEE0) for c in cid),  # full-width forms
    "H-nbsp": lambda cid: "\u00a0" + cid + "\t",
}


def test_hostile_values_and_dates_are_quarantined_and_the_build_stays_green(built_db, tmp_path):
    db, _ = built_db
    work = copy_warehouse(db, tmp_path / "hostile.duckdb")
    with duckdb.connect(str(work)) as con:
        for (order_id, customer, at, value, items, loaded), _ in HOSTILE_ORDERS.items():
            con.execute(
                "insert into raw.orders values (?, ?, ?, 'completed', ?, 0.0, ?, ?)",
                [order_id, customer, at, value, items, loaded],
            )
        early = con.execute(
            "select customer_id from staging.stg_shop__customers where reject_reason is null"
            " and signed_up_at < date '2024-06-01' order by customer_id limit 3"
        ).fetchall()
        targets = {order_id: cid for order_id, (cid,) in zip(VARIANTS, early, strict=True)}
        for order_id, cid in targets.items():
            con.execute(
                "insert into raw.orders values (?, ?, timestamp '2025-06-01 10:00', 'completed',"
                " 12.5, 0.0, 1, timestamp '2025-06-01 11:00')",
                [order_id, VARIANTS[order_id](cid)],
            )
    run_dbt(["build"], work, tmp_path / "target")  # raises unless every model and test passes

    reasons = dict(
        query(
            work,
            "select row_id, reject_reason from marts.quarantined_rows where row_id like 'H-%'",
        )
    )
    assert reasons == {key[0]: reason for key, reason in HOSTILE_ORDERS.items()}
    merged = dict(
        query(
            work,
            "select order_id, customer_id from intermediate.int_orders_validated"
            " where order_id in ('H-zw', 'H-fw', 'H-nbsp') and reject_reason is null",
        )
    )
    assert merged == targets
    # The typo'd dates stretch nothing: the schedule is the one built without them.
    assert query(work, "select max(as_of) from intermediate.int_snapshot_spine") == query(
        db, "select max(as_of) from intermediate.int_snapshot_spine"
    )
    for table in RAW_TABLES:
        model = (
            "staging.stg_shop__customers"
            if table == "customers"
            else f"intermediate.int_{table}_validated"
        )
        raw, accounted = query(
            work,
            f"""select (select count(*) from raw.{table}),
                (select count(*) from {model} where reject_reason is null)
                + (select sum(copies_loaded - 1) from {model})
                + (select count(*) from marts.quarantined_rows where source_table = ?)""",
            [table],
        )[0]
        assert raw == accounted, f"{table}: {raw} raw rows, {accounted} accounted for"


class _Return(Exception):
    """dbt's `return()` inside a macro, for rendering macros outside dbt."""


class CompilerError(Exception):
    pass


def _raise(exception):
    raise exception


def check_vars(overrides: dict) -> None:
    """Run the validate_vars macro as dbt would, with the project's vars and overrides
    (rendered with Jinja: a dbt invocation per case would cost seconds each)."""
    project = yaml.safe_load((REPO / "dbt_project.yml").read_text())["vars"]
    values = {**project, **overrides}
    env = jinja2.Environment(extensions=["jinja2.ext.do"])

    def macro(name: str):
        template = env.from_string((REPO / f"dbt_project/macros/{name}.sql").read_text())

        def run(*args):
            try:
                return getattr(template.module, name)(*args)
            except _Return as returned:  # dbt's return() ends the macro with a value
                return returned.args[0]

        return run

    env.globals.update(
        var=values.__getitem__,
        modules=SimpleNamespace(re=re),
        exceptions=SimpleNamespace(raise_compiler_error=lambda m: _raise(CompilerError(m))),
    )
    env.globals["return"] = lambda value: _raise(_Return(value))
    env.globals["is_list_of_names"] = macro("is_list_of_names")
    macro("validate_vars")()


BAD_VARS = [
    ({"churn_window_days": -1}, "var churn_window_days: -1 is not a whole number from 1 to 3650"),
    ({"churn_window_days": True}, "var churn_window_days: True is not a whole number"),
    ({"active_lookback_days": "365"}, "var active_lookback_days: 365 is not a whole number"),
    (
        {"snapshot_start": "2025-06-01", "snapshot_end": "2025-01-01"},
        "var snapshot_start: 2025-06-01 is after snapshot_end 2025-01-01",
    ),
    ({"snapshot_start": "2025-13-01"}, "var snapshot_start: 2025-13-01 is not a date"),
    ({"data_horizon": "tomorrow"}, "var data_horizon: tomorrow is not a date or timestamp"),
    ({"snapshot_interval": "-1 month"}, "var snapshot_interval: -1 month is not a positive"),
    ({"snapshot_interval": "1 fortnight"}, "var snapshot_interval: 1 fortnight is not a positive"),
    ({"snapshot_start": "2025-01-01'; drop table raw.orders; --"}, "is not a date YYYY-MM-DD"),
    ({"isolated_max_share": 2}, "var isolated_max_share: 2 is not a share in [0, 1)"),
    ({"max_order_value": float("nan")}, "var max_order_value: nan is not a positive number"),
    ({"max_order_value": float("inf")}, "var max_order_value: inf is not a positive number"),
    ({"earliest_event_date": None}, "var earliest_event_date: None is not a date YYYY-MM-DD"),
    (
        {"accepted_values": {"orders": {"status": ["Completed"]}}},
        "var accepted_values.orders.status: ['Completed'] is not a list of lower-case values",
    ),
    ({"reject_reasons": "missing_value"}, "var reject_reasons: missing_value is not a list"),
]


@pytest.mark.parametrize(("overrides", "message"), BAD_VARS, ids=[str(v) for v, _ in BAD_VARS])
def test_each_bad_var_is_named_in_one_line(overrides, message):
    with pytest.raises(CompilerError) as refused:
        check_vars(overrides)
    text = str(refused.value)
    assert text.startswith("var ") and message in text
    assert text.endswith("(set it in dbt_project.yml vars or --vars)")
    assert "\n" not in text


def test_the_projects_own_vars_pass():
    check_vars({})
    check_vars({"snapshot_start": date(2025, 1, 1), "data_horizon": "2025-12-31 23:00:00"})


def test_a_crafted_var_stops_the_build_before_anything_runs(built_db, tmp_path):
    """The check is wired in: dbt refuses in one line, and nothing is touched."""
    db, _ = built_db
    work = copy_warehouse(db, tmp_path / "vars.duckdb")
    vars_ = {"snapshot_start": "2025-01-01'); drop table raw.orders; --"}
    result = run_dbt(["build"], work, tmp_path / "t", vars_, check=False)
    assert result.returncode != 0
    assert "var snapshot_start: 2025-01-01'); drop table raw.orders; -- is not a date" in (
        result.stdout
    )
    assert query(work, "select count(*) from raw.orders") == query(
        db, "select count(*) from raw.orders"
    )


def test_a_schedule_longer_than_max_snapshots_is_refused_and_the_last_build_kept(
    built_db, tmp_path
):
    db, _ = built_db
    work = copy_warehouse(db, tmp_path / "schedule.duckdb")
    spine = query(work, "select * from intermediate.int_snapshot_spine order by 1")
    vars_ = {"snapshot_interval": "1 day", "max_snapshots": 100}
    result = run_dbt(["run", "-s", "int_snapshot_spine"], work, tmp_path / "t", vars_, False)
    assert result.returncode != 0
    assert re.search(
        r"the snapshot schedule has \d+ snapshots \(.* to .*\), more than max_snapshots \(100\)",
        result.stdout,
    ), result.stdout[-2000:]
    assert query(work, "select * from intermediate.int_snapshot_spine order by 1") == spine
