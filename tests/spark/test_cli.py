"""The Spark commands refuse a user's mistake in one line, before Spark starts
and before anything is written (no Java needed)."""

from __future__ import annotations

import duckdb
import pytest

from featurestore import spark as spark_build
from modeling import score, train


def test_a_missing_raw_warehouse_is_one_line(tmp_path, capsys):
    folder = tmp_path / "spark"
    code = spark_build.main(["build", "--spark-dir", str(folder), "--raw-from", "nope.duckdb"])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and lines == ["error: --raw-from nope.duckdb: no such warehouse file"]
    assert not folder.exists()


def test_a_raw_warehouse_that_is_no_duckdb_file_is_one_line(tmp_path, capsys):
    (tmp_path / "notes.duckdb").write_text("not a database\n")
    code = spark_build.main(
        [
            "build",
            "--spark-dir",
            str(tmp_path / "spark"),
            "--raw-from",
            str(tmp_path / "notes.duckdb"),
        ]
    )
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: --raw-from ")
    assert not (tmp_path / "spark" / "raw" / "orders").exists()


def test_help_says_how_to_pass_dbt_arguments(capsys):
    with pytest.raises(SystemExit) as exited:
        spark_build.main(["--help"])
    assert exited.value.code == 0 and "Anything after --" in capsys.readouterr().out


@pytest.mark.parametrize("cli", [train.main, score.main])
def test_training_or_scoring_a_folder_without_a_spark_build_is_one_line(cli, tmp_path, capsys):
    with pytest.raises(SystemExit) as exited:
        cli(["--target", "spark", "--spark-dir", str(tmp_path)])
    lines = capsys.readouterr().err.strip().splitlines()
    assert exited.value.code != 0 and len(lines) == 1
    assert lines[0].startswith(f"error: no Spark warehouse at {tmp_path}")


@pytest.mark.parametrize("share", ["0", "1.5", "nan"])
def test_a_sample_share_outside_0_1_is_a_usage_error(share, capsys):
    with pytest.raises(SystemExit) as exited:
        train.main(["--target", "spark", "--spark-sample", share])
    assert exited.value.code == 2 and "--spark-sample" in capsys.readouterr().err


def test_the_raw_copy_carries_each_rows_rowid_and_replaces_the_last_copy(tmp_path):
    from tests.conftest import make_warehouse
    from warehouse.contract import RAW_TABLES
    from warehouse.spark import export_raw

    db = make_warehouse(tmp_path / "warehouse.duckdb", customers=200, dirty_rate=0.05)
    folder = tmp_path / "spark"
    first = export_raw(db, folder)
    with duckdb.connect(str(db)) as con:
        con.execute("delete from raw.orders where rowid % 2 = 0")  # rewritten raw rows
    second = export_raw(db, folder)
    assert second["orders"] < first["orders"] and set(second) == set(RAW_TABLES)
    with duckdb.connect(str(db), read_only=True) as con:
        for table in RAW_TABLES:
            copied = f"read_parquet('{folder}/raw/{table}/*.parquet')"
            differ = con.execute(
                f"select count(*) from (select rowid as _raw_rowid, * from raw.{table}"
                f" except all select * from {copied})"
            ).fetchone()[0]
            rows = con.execute(f"select count(*) from {copied}").fetchone()[0]
            assert differ == 0 and rows == second[table], table
    assert sorted(p.name for p in (folder / "raw").iterdir()) == sorted(RAW_TABLES)


def test_the_parse_before_a_build_gets_its_vars_and_nothing_else():
    build = ["--select", "customer_risk", "--vars", "{a: 1}", "--vars={b: 2}", "--full-refresh"]
    assert spark_build.parse_args(build) == ["--vars", "{a: 1}", "--vars={b: 2}"]
    assert spark_build.parse_args(["--vars"]) == []
