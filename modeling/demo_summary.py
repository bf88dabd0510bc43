"""What `make demo` produced and where to look: the last step of the demo.

python -m modeling.demo_summary [--db PATH]
"""

from __future__ import annotations

import os
from pathlib import Path

from modeling.data import connect_read_only
from modeling.errors import ModelingError, run_cli
from modeling.lineage import warehouse_identity
from warehouse.cli import Parser
from warehouse.database import quote_identifier, resolve_db_path
from warehouse.published import catalog_path

# The schemas an analyst queries, in reading order; the rest are plumbing.
ANALYST_SCHEMAS = ("marts", "scoring")


def table_counts(db_path: Path) -> list[tuple[str, str, int]]:
    """Rows of each analyst table of the published marts (what analysts open)."""
    with connect_read_only(db_path) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables"
            " where table_catalog = current_database() order by all"
        ).fetchall()
        counts = []
        for schema, table in tables:
            if schema in ANALYST_SCHEMAS:
                relation = f"{quote_identifier(schema)}.{quote_identifier(table)}"
                rows = con.execute(f"select count(*) from {relation}").fetchone()[0]
                counts.append((schema, table, rows))
        return counts


def summary(db_path: Path, report: Path, tracking_db: Path) -> str:
    lines = [f"Warehouse: {db_path}; published marts (read these): {catalog_path(db_path)}"]
    for schema, table, rows in table_counts(db_path):
        lines.append(f"  {schema}.{table:<28} {rows:>10,} rows")
    lines += [
        "",
        "Look around:",
        f"  duckdb -readonly {catalog_path(db_path)}     (or: python -m warehouse.sql)",
        "  example queries: README.md, section 'For analysts', and dbt_project/analyses/",
        "  dbt docs generate && dbt docs serve     (model and column documentation)",
    ]
    if tracking_db.exists() or os.environ.get("MLFLOW_TRACKING_URI"):
        uri = os.environ.get("MLFLOW_TRACKING_URI", f"sqlite:///{tracking_db}")
        lines.append(f"  mlflow ui --backend-store-uri {uri}     (runs, metrics, models)")
        model = f"models:/{warehouse_identity(db_path).model_name}@champion"
        lines.append(f"  mlflow.pyfunc.load_model('{model}')     (this shop's model)")
    if report.exists():
        lines.append(f"  open {report}     (insights report)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = Parser(prog="python -m modeling.demo_summary", description=__doc__.splitlines()[0])
    parser.add_db_option()
    args = parser.parse_args(argv)
    run_cli(lambda: print(summary_of(resolve_db_path(args.db))))


def summary_of(db_path: Path) -> str:
    if not db_path.exists():
        raise ModelingError(
            f"no warehouse at {db_path}: run `python -m seeds_gen` and `dbt build` first"
        )
    return summary(db_path, Path("reports/churn_report.html"), Path("mlflow.db"))


if __name__ == "__main__":
    main()
