"""The Spark commands refuse a user's mistake in one line, before Spark starts
and before anything is written (no Java needed)."""

from __future__ import annotations

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
