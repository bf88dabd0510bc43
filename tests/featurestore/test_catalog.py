"""The feature catalog: valid, the files written from it current, its mistakes named
in one line, and the documented way of adding a feature working end to end."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import duckdb
import mlflow
import pytest
import yaml

from featurestore.catalog import CATALOG_MACRO, REPO, CatalogError, catalog_text, read_catalog
from featurestore.render import DOCS, outputs
from modeling.lineage import warehouse_identity
from modeling.manifest import Manifest
from modeling.train import parse_args, train
from tests.dbt_runner import copy_project, copy_warehouse, run_dbt


def test_the_files_written_from_the_catalog_are_current():
    for path, text in outputs().items():
        assert path.read_text() == text, f"{path} is stale: run `make catalog`"


def test_every_mart_column_is_a_catalog_entry_with_its_defaults():
    catalog = read_catalog()
    model = yaml.safe_load((REPO / "dbt_project/models/marts/customer_snapshots.yml").read_text())
    columns = model["models"][0]["columns"]
    assert [c["name"] for c in columns] == [c.name for c in catalog.columns]
    by_name = {c["name"]: c for c in columns}
    orders_30d = by_name["orders_30d"]
    assert orders_30d["data_type"] == "bigint"
    assert orders_30d["config"]["meta"] == {
        "role": "feature",
        "kind": "numeric",
        "measure": "orders",
        "window": 30,
    }
    assert by_name["revenue_90d"]["data_type"] == "double"  # money
    assert by_name["last_rating"]["data_type"] == "integer"  # an extreme keeps its type
    docs = (REPO / DOCS).read_text()
    for column in catalog.columns:
        assert f"| `{column.name}` |" in docs


def _catalog_with(tmp_path: Path, old: str, new: str) -> Path:
    text = CATALOG_MACRO.read_text()
    assert old in text, old
    path = tmp_path / "feature_catalog.sql"
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "    measure: orders\n    window: 30\n",
            "    measure: order\n    window: 30\n",
            "column orders_30d: no measure named 'order'",
        ),
        (
            "  - name: orders_30d\n",
            "  - name: orders_31d\n",
            "column orders_31d: a total of measure orders with window 30 is named orders_30d",
        ),
        (
            "    measure: last_rating\n",
            "    measure: last_rating\n    window: 30\n",
            "column last_rating: latest has no window",
        ),
        (
            "  tickets: {source: support_tickets, aggregate: count}",
            "  tickets: {source: support_ticket, aggregate: count}",
            "measure tickets: unknown source 'support_ticket'",
        ),
        (
            "  rating_sum: {source: reviews, aggregate: sum, expression: rating}",
            "  rating_sum: {source: reviews, aggregate: sum}",
            "measures.rating_sum: aggregate sum needs expression",
        ),
        (
            "  - name: tenure_days\n",
            "  - name: days_since_first_order\n",
            "columns listed twice: days_since_first_order",
        ),
        (
            "  - name: tenure_days\n    type: bigint\n",
            "  - name: tenure_days\n    type: bigint\n    windw: 3\n",
            "columns.tenure_days.windw: Extra inputs are not permitted",
        ),
    ],
    ids=[
        "unknown_measure",
        "misnamed_total",
        "window_on_extreme",
        "unknown_source",
        "sum_without_expression",
        "duplicate_column",
        "typo_in_key",
    ],
)
def test_catalog_mistakes_are_named_in_one_line(tmp_path, old, new, message):
    with pytest.raises(CatalogError) as raised:
        read_catalog(_catalog_with(tmp_path, old, new))
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_the_catalog_text_is_what_dbt_hashes():
    text = catalog_text()
    assert text.startswith("\n# --- catalog: begin ---\n") and text.endswith(
        "# --- catalog: end ---\n"
    )


def documented_diffs() -> str:
    """The diffs docs/feature_store.md shows for adding a feature, as one patch."""
    blocks = re.findall(r"```diff\n(.*?)```", (REPO / DOCS).read_text(), re.DOTALL)
    assert len(blocks) == 2
    return "".join(blocks)


def test_the_documented_diffs_add_features_to_mart_manifest_and_model(
    built_db, tmp_path, mlflow_store
):
    """What docs/feature_store.md promises: the catalog entries (and the unit-test
    expectation) are all it takes to add a feature, deleting its entry to remove one;
    make catalog writes the rest, dbt build (with its unit tests) passes, and the next
    model trains on the new columns and not on the removed one."""
    db, _ = built_db
    project = copy_project(tmp_path / "project")
    (project / "docs").mkdir()
    (project / DOCS).write_text((REPO / DOCS).read_text())
    subprocess.run(
        ["git", "apply", "-"], input=documented_diffs(), text=True, cwd=project, check=True
    )
    # Removing a feature is deleting its entry.
    removed = "points_redeemed_90d"
    catalog = project / CATALOG_MACRO.relative_to(REPO)
    entry = (
        f"  - name: {removed}\n    measure: points_redeemed\n    window: 90\n"
        "    description: Loyalty points redeemed in the 90 days before as_of.\n"
    )
    assert entry in catalog.read_text()
    catalog.write_text(catalog.read_text().replace(entry, ""))
    for path, text in outputs(project).items():
        path.write_text(text)
    work = copy_warehouse(db, tmp_path / "warehouse.duckdb")
    run_dbt(["build"], work, tmp_path / "target", project=project)

    new = ("orders_60d", "purchase_days_180d")
    manifest = Manifest(tmp_path / "target" / "manifest.json")
    assert set(new) <= set(manifest.feature_spec().numeric)
    assert removed not in manifest.model()["columns"]
    meta = manifest.model()["columns"]["orders_60d"]["meta"]
    assert meta == {"role": "feature", "kind": "numeric", "measure": "orders", "window": 60}
    with duckdb.connect(str(work), read_only=True) as con:
        # Each value against a direct count over the validated orders known before as_of.
        wrong = con.execute(
            """
            select count(*), count(*) filter (
                where s.orders_60d != (
                    select count(*) from intermediate.int_orders_validated as o
                    where o.customer_id = s.customer_id and o.reject_reason is null
                        and o.order_status = 'completed'
                        and cast(greatest(o.ordered_at, o.loaded_at) as date) < s.as_of
                        and cast(o.ordered_at as date) >= s.as_of - interval 60 day
                )
                or s.purchase_days_180d != (
                    select count(distinct cast(o.ordered_at as date))
                    from intermediate.int_orders_validated as o
                    where o.customer_id = s.customer_id and o.reject_reason is null
                        and o.order_status = 'completed'
                        and cast(greatest(o.ordered_at, o.loaded_at) as date) < s.as_of
                        and cast(o.ordered_at as date) >= s.as_of - interval 180 day
                )
            )
            from marts.customer_snapshots as s
            """
        ).fetchone()
    assert wrong[0] > 1000 and wrong[1] == 0

    result = train(
        parse_args(
            [
                "--db",
                str(work),
                "--manifest",
                str(tmp_path / "target" / "manifest.json"),
                "--models",
                "logistic_regression",
                "--report",
                str(tmp_path / "report.html"),
            ]
        )
    )
    version = result["decision"].version
    name = warehouse_identity(work).model_name
    inputs = mlflow.models.get_model_info(f"models:/{name}/{version}").signature
    assert set(new) <= set(inputs.inputs.input_names())
    assert removed not in inputs.inputs.input_names()
