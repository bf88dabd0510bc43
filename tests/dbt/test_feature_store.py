"""The feature store end to end on a small generated warehouse."""

from __future__ import annotations

import json

import duckdb
import pytest

from tests.conftest import query
from tests.dbt_runner import copy_warehouse, run_dbt
from warehouse.contract import RAW_TABLES


def test_quarantine_holds_exactly_the_injected_bad_rows(built_db):
    db, _ = built_db
    expected = set(
        query(
            db,
            "select table_name, row_id, expected_reject_reason from generator.injected_defects"
            " where expected_reject_reason is not null and row_id is not null",
        )
    )
    actual = set(
        query(
            db,
            "select source_table, row_id, reject_reason from marts.quarantined_rows"
            " where row_id is not null",
        )
    )
    assert expected and actual == expected
    # Rows whose id itself was missing can only be compared by count.
    missing = query(
        db,
        "select (select count(*) from generator.injected_defects where row_id is null"
        " and expected_reject_reason is not null),"
        " (select count(*) from marts.quarantined_rows where row_id is null)",
    )[0]
    assert missing[0] == missing[1]


@pytest.mark.parametrize("table", list(RAW_TABLES))
def test_raw_rows_reconcile_with_clean_duplicates_and_quarantine(built_db, table):
    db, _ = built_db
    model = (
        "staging.stg_shop__customers"
        if table == "customers"
        else f"intermediate.int_{table}_validated"
    )
    raw, clean, duplicates, quarantined, injected_duplicates = query(
        db,
        f"""
        select
            (select count(*) from raw.{table}),
            (select count(*) from {model} where reject_reason is null),
            (select sum(copies_loaded - 1) from {model}),
            (select count(*) from marts.quarantined_rows where source_table = ?),
            (select count(*) from generator.injected_defects
             where table_name = ? and defect = 'duplicate')
        """,
        [table, table],
    )[0]
    assert raw == clean + duplicates + quarantined
    assert duplicates == injected_duplicates


def test_manifest_describes_every_column_with_role_and_kind(built_db):
    db, target = built_db
    manifest = json.loads((target / "manifest.json").read_text())
    models = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    for name, node in models.items():
        assert node["description"], f"model {name} has no description"
        for column, spec in node["columns"].items():
            assert spec["description"], f"{name}.{column} has no description"
    snapshots = models["customer_snapshots"]
    table_columns = [r[0] for r in query(db, "describe marts.customer_snapshots")]
    assert list(snapshots["columns"]) == table_columns
    roles = {c: spec["meta"].get("role") for c, spec in snapshots["columns"].items()}
    assert roles["customer_id"] == "id" and roles["as_of"] == "time" and roles["churned"] == "label"
    features = {
        c: spec["meta"] for c, spec in snapshots["columns"].items() if roles[c] == "feature"
    }
    assert len(features) >= 25
    assert {meta["kind"] for meta in features.values()} == {"numeric", "categorical"}
    assert snapshots["config"]["contract"]["enforced"]


def test_labels_follow_the_definition(built_db):
    db, _ = built_db
    mismatches = query(
        db,
        """
        with recomputed as (
            select
                s.customer_id,
                s.as_of,
                s.churned,
                not exists (
                    select 1 from intermediate.int_orders_validated as o
                    where o.customer_id = s.customer_id and o.reject_reason is null
                        and o.order_status = 'completed'
                        and o.ordered_at >= s.as_of and o.ordered_at < s.label_window_end
                ) as expected_churned,
                sp.is_label_complete
            from marts.customer_snapshots as s
            join intermediate.int_snapshot_spine as sp on s.as_of = sp.as_of
        )
        select count(*) filter (where is_label_complete and churned != expected_churned::int),
               count(*) filter (where not is_label_complete and churned is not null),
               count(*) filter (where is_label_complete)
        from recomputed
        """,
    )[0]
    assert mismatches[0] == 0 and mismatches[1] == 0 and mismatches[2] > 1000


def test_model_is_no_better_than_the_truth(built_db):
    """The label agrees with the generator's true probability (sanity of the whole chain)."""
    from sklearn.metrics import roc_auc_score

    db, _ = built_db
    rows = query(
        db,
        "select s.churned, t.p_no_completed_order from marts.customer_snapshots s"
        " join truth.churn_probability t on s.customer_id = t.customer_id and s.as_of = t.as_of"
        " where s.churned is not null",
    )
    assert len(rows) > 500
    assert roc_auc_score([r[0] for r in rows], [r[1] for r in rows]) > 0.8


FEATURE_SNAPSHOT = "2025-07-01"


@pytest.mark.parametrize("path", ["full", "incremental"])
def test_future_and_late_events_never_change_a_snapshot(built_db, tmp_path, path):
    """Leakage: events dated at/after as_of, or loaded at/after it, leave its features alone,
    whether the snapshot is rebuilt in full (`dbt run`) or by an incremental refresh (a
    complete `dbt build`, then one more after the load; a row loaded before as_of makes
    the refresh recompute the snapshot, with the leaking rows present)."""
    db, target = built_db
    manifest = json.loads((target / "manifest.json").read_text())
    node = next(n for n in manifest["nodes"].values() if n["name"] == "customer_snapshots")
    features = [c for c, s in node["columns"].items() if s["meta"].get("role") == "feature"]
    spine = query(db, "select min(as_of), max(as_of) from intermediate.int_snapshot_spine")[0]
    vars_ = {"snapshot_start": str(spine[0]), "snapshot_end": str(spine[1])}
    command = ["run"] if path == "full" else ["build"]

    work = copy_warehouse(db, tmp_path / "leak.duckdb")
    run_dbt(command, work, tmp_path / "before", vars_)
    # The customer whose early row makes the incremental refresh recompute the snapshot.
    trigger = query(
        work,
        "select max(customer_id) from marts.customer_snapshots"
        f" where as_of = date '{FEATURE_SNAPSHOT}'",
    )[0][0]
    select = (
        f"select customer_id, as_of, {', '.join(features)} from marts.customer_snapshots"
        f" where customer_id <> '{trigger}'"
    )
    before = query(work, f"{select} and as_of <= date '{FEATURE_SNAPSHOT}' order by all")
    next_snapshot = (
        f"(select min(as_of) from marts.customer_snapshots where as_of > '{FEATURE_SNAPSHOT}')"
    )
    later_before = query(work, f"{select} and as_of = {next_snapshot} order by all")

    x = f"timestamp '{FEATURE_SNAPSHOT}'"
    with duckdb.connect(str(work)) as con:
        victims = (
            "(select customer_id from marts.customer_snapshots"
            f" where as_of = date '{FEATURE_SNAPSHOT}' order by customer_id limit 200)"
        )
        con.execute(
            f"insert into raw.orders values ('early-trigger', '{trigger}',"
            f" {x} - interval 20 day, 'completed', 20.0, 0.0, 1, {x} - interval 15 day)"
        )
        # Events at or after as_of (loaded promptly) and events before it loaded at or after it.
        for offset, load_delay in [("0 day", "1 hour"), ("3 day", "1 hour"), ("-5 day", None)]:
            at = f"{x} + interval '{offset}'"
            loaded = f"{at} + interval {load_delay}" if load_delay else x
            tag = offset.replace(" ", "").replace("-", "m")
            con.execute(
                f"insert into raw.orders select 'leak-o-{tag}-' || customer_id, customer_id, {at},"
                f" 'completed', 500.0, 0.0, 3, {loaded} from {victims}"
            )
            con.execute(
                f"insert into raw.site_visits select 'leak-v-{tag}-' || customer_id, customer_id,"
                f" {at}, 9, 600, 'mobile', {loaded} from {victims}"
            )
            con.execute(
                f"insert into raw.loyalty_events select 'leak-l-{tag}-' || customer_id,"
                f" customer_id, {at}, 'enrolled', 0, {loaded} from {victims}"
            )
            con.execute(
                f"insert into raw.reviews select 'leak-r-{tag}-' || customer_id, customer_id,"
                f" null, {at}, 1, {loaded} from {victims}"
            )
            con.execute(
                f"insert into raw.support_tickets select 'leak-t-{tag}-' || customer_id,"
                f" customer_id, {at}, 'delivery', {loaded} from {victims}"
            )
    result = run_dbt(command, work, tmp_path / "after", vars_)
    if path == "incremental":
        assert "refresh: incremental" in result.stdout, result.stdout[-2000:]
        rebuilt = query(work, "select min(as_of) from intermediate.int_snapshots_to_build")[0][0]
        assert str(rebuilt) <= FEATURE_SNAPSHOT  # the snapshot was recomputed, not kept
    after = query(work, f"{select} and as_of <= date '{FEATURE_SNAPSHOT}' order by all")
    assert after == before
    # The appended events are real and valid: the next snapshot does see them.
    assert query(work, f"{select} and as_of = {next_snapshot} order by all") != later_before
    seen = query(
        work,
        "select count(*) from intermediate.int_orders_validated"
        " where order_id like 'leak-%' and reject_reason is null",
    )[0][0]
    assert seen == 600


def test_missing_required_column_names_table_and_column(built_db, tmp_path):
    db, _ = built_db
    work = copy_warehouse(db, tmp_path / "broken.duckdb")
    with duckdb.connect(str(work)) as con:
        con.execute("alter table raw.orders drop column status")
    result = run_dbt(["run", "-s", "stg_shop__orders"], work, tmp_path / "t", check=False)
    assert result.returncode != 0
    assert "raw table raw.orders is missing required column(s): status" in result.stdout


def test_absent_optional_sources_build_with_default_features(built_db, tmp_path):
    db, _ = built_db
    work = copy_warehouse(db, tmp_path / "orders_only.duckdb")
    with duckdb.connect(str(work)) as con:
        for table in ("site_visits", "loyalty_events", "reviews", "support_tickets"):
            con.execute(f"delete from raw.{table}")
    run_dbt(["build"], work, tmp_path / "t")
    stats = query(
        work,
        "select count(*), max(visits_90d), bool_or(is_loyalty_member), count(avg_rating),"
        " max(tickets_lifetime), count(days_since_last_visit) from marts.customer_snapshots",
    )[0]
    assert stats == (stats[0], 0, False, 0, 0, 0) and stats[0] > 1000


def test_analyses_compile_and_run_on_the_marts(built_db):
    db, target = built_db
    run_dbt(["compile", "--select", "resource_type:analysis"], db, target)
    compiled = sorted((target / "compiled" / "churn" / "dbt_project" / "analyses").glob("*.sql"))
    assert len(compiled) >= 4
    for path in compiled:
        rows = query(db, path.read_text())
        # Scores exist only after modeling.score: tests/modeling checks that one's rows.
        assert rows or "customer_risk" in path.read_text(), f"{path.name} returned no rows"


def test_docs_generate_and_exposures_declare_the_consumers(built_db):
    db, target = built_db
    run_dbt(["docs", "generate"], db, target)
    catalog = json.loads((target / "catalog.json").read_text())
    assert "model.churn.customer_snapshots" in catalog["nodes"]
    manifest = json.loads((target / "manifest.json").read_text())
    depends = {
        name.split(".")[-1]: set(node["depends_on"]["nodes"])
        for name, node in manifest["exposures"].items()
    }
    assert "model.churn.customer_snapshots" in depends["churn_model"]
    assert "model.churn.dim_customers" in depends["analyst_tables"]
