"""The generator refuses a bad flag, value or file up front in one line and writes
nothing; an interrupted or killed run leaves no warehouse behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from seeds_gen import generate as generate_module
from seeds_gen.cli import main
from tests.conftest import make_warehouse
from tests.seeds_gen.processes import held_open, wait_for
from warehouse.database import INTERRUPTED, partial_path

USAGE, REFUSED = 2, 1


def run(argv: list[str], capsys) -> tuple[int, list[str]]:
    """Exit status and stderr lines of the generator's CLI, in this process."""
    try:
        code = main(["--quiet", *argv])
    except SystemExit as exited:
        code = exited.code
    return code, capsys.readouterr().err.strip().splitlines()


def assert_refused(tmp_path, capsys, argv, code, message) -> None:
    """One line naming the problem, the exit status, and nothing in the folder."""
    got, lines = run(["--db", str(tmp_path / "w.duckdb"), *argv], capsys)
    assert got == code
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], lines
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--customers", "0"], "--customers: must be a whole number in [1, 20,000,000], got '0'"),
        (["--customers", "-5"], "--customers: must be a whole number in [1, 20,000,000]"),
        (["--customers", "1e6"], "--customers: '1e6' is not a whole number"),
        (["--customers", "30000000"], "--customers: must be a whole number in [1, 20,000,000]"),
        (["--seed", "-1"], "--seed: must be a whole number in [0, 4,294,967,295]"),
        (["--dirty-rate", "0.9"], "--dirty-rate: must be a finite number in [0, 0.5)"),
        (["--dirty-rate", "nan"], "--dirty-rate: must be a finite number in [0, 0.5)"),
        (["--annual-churn", "1"], "--annual-churn: must be a finite number in (0, 1)"),
        (["--loyalty-effect", "inf"], "--loyalty-effect: must be a finite number in [-5.0, 5.0]"),
        (["--frequency-effect", "50"], "--frequency-effect: must be a finite number in [-5.0, 5"),
        (["--churn-window-days", "0"], "--churn-window-days: must be a whole number >= 1"),
        (["--churn-window-days", "800"], "--churn-window-days must be at least 1 and shorter"),
        (["--start", "not-a-date"], "not a date (YYYY-MM-DD): 'not-a-date'"),
        (["--start", "1950-01-01"], "--start 1950-01-01 is before 1990-01-01"),
        (["--start", "2025-01-01", "--end", "2024-01-01"], "--end 2024-01-01 must be after"),
        (["--end", "2024-01-15"], "must be 30 days to 50 years, got 14 days"),
        (["--start", "1990-01-01", "--end", "2045-01-01"], "must be 30 days to 50 years"),
        (["--truth-as-of", "2030-01-01"], "--truth-as-of 2030-01-01 is outside"),
    ],
)
def test_a_bad_flag_is_a_usage_error_in_one_line(tmp_path, capsys, args, message):
    assert_refused(tmp_path, capsys, args, USAGE, message)


def test_a_run_the_memory_cannot_hold_is_refused_naming_the_limit(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(generate_module, "machine_memory_bytes", lambda: 4 * 2**30)
    message = (
        "--customers 1,000,000 over 2.0 years needs about 6.0 GiB of memory, more than 80%"
        " of this machine's 4.0 GiB: generate at most 481,000 customers"
    )
    assert_refused(tmp_path, capsys, ["--customers", "1000000"], USAGE, message)
    # The span counts too: a tenth of the customers over twenty years.
    args = ["--customers", "100000", "--start", "2006-01-01", "--end", "2026-01-01"]
    assert_refused(tmp_path, capsys, args, USAGE, "over 20.0 years needs about 6.0 GiB")


def test_the_machine_memory_is_read():
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert 0 < generate_module.machine_memory_bytes() <= total


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("raw.duckdb", "DuckDB names the database 'raw' after the file"),
        ("Marts.db", "the warehouse's schema 'marts'"),
        ("generator.v2.duckdb", "the warehouse's schema 'generator'"),
        ("memory.duckdb", "the warehouse's DuckDB's catalog 'memory'"),
    ],
)
def test_a_warehouse_named_like_a_schema_is_refused(tmp_path, capsys, name, message):
    got, lines = run(["--db", str(tmp_path / name)], capsys)
    assert got == REFUSED and len(lines) == 1 and message in lines[0]
    assert "name the file differently, e.g." in lines[0]
    assert os.listdir(tmp_path) == []


def test_a_folder_or_a_file_that_is_not_a_warehouse_is_refused(tmp_path, capsys, monkeypatch):
    (tmp_path / "folder.duckdb").mkdir()
    got, lines = run(["--db", str(tmp_path / "folder.duckdb")], capsys)
    assert got == REFUSED and lines == [
        f"error: --db {tmp_path / 'folder.duckdb'} is a folder: give a file path,"
        f" e.g. {tmp_path / 'folder.duckdb' / 'warehouse.duckdb'}"
    ]
    export = tmp_path / "orders.csv"
    export.write_text("order_id,customer_id\n1,2\n")
    monkeypatch.setenv("CHURN_DB_PATH", str(export))
    got, lines = run([], capsys)
    assert got == REFUSED and len(lines) == 1
    assert lines[0].startswith(f"error: cannot open database {export}: it is not a DuckDB database")
    assert export.read_text() == "order_id,customer_id\n1,2\n"


def test_a_warehouse_another_process_writes_is_refused(tmp_path, capsys):
    db = make_warehouse(tmp_path / "w.duckdb", customers=200)
    before = db.stat().st_mtime_ns
    with held_open(db) as holder:
        got, lines = run(["--db", str(db), "--overwrite"], capsys)
    assert got == REFUSED and len(lines) == 1
    assert f"process {holder.pid} has it open for writing: wait for it to finish" in lines[0]
    assert db.stat().st_mtime_ns == before


def test_a_parquet_folder_that_cannot_be_written_is_refused_before_generating(tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    got, lines = run(["--db", str(tmp_path / "w.duckdb"), "--parquet", str(blocker / "pq")], capsys)
    assert got == REFUSED
    assert lines == [f"error: --parquet {blocker / 'pq'}: {blocker} is a file, not a folder"]
    assert sorted(os.listdir(tmp_path)) == ["a_file"]


def test_a_failed_parquet_export_writes_neither_parquet_nor_warehouse(tmp_path, monkeypatch):
    """The export is part of the all-or-nothing unit: DuckDB failing to write the
    third table (its staging path in a missing folder) undoes everything."""
    staged = []

    def third_fails(target, pid=None):
        staged.append(target)
        return target.parent / "missing" / target.name if len(staged) == 3 else target

    monkeypatch.setattr(generate_module, "partial_path", third_fails)
    cfg = generate_module.GenerationConfig(customers=300)
    parquet = tmp_path / "exports" / "parquet"
    with pytest.raises(generate_module.GeneratorError, match="cannot write Parquet to --parquet"):
        generate_module.generate(cfg, tmp_path / "w.duckdb", parquet_dir=parquet, progress=False)
    assert os.listdir(tmp_path) == []


def start_generator(db: Path, *args: str) -> subprocess.Popen:
    """The generator on a new file, big enough to still be writing when signalled,
    once it is loading rows (its partial file past 1 MB)."""
    generator = subprocess.Popen(
        [sys.executable, "-m", "seeds_gen", "--customers", "200000", "--db", str(db), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for(partial_path(db, generator.pid), generator, size=2**20)
    return generator


def test_sigterm_aborts_cleanly_and_leaves_nothing(tmp_path):
    db = tmp_path / "w.duckdb"
    generator = start_generator(db, "--quiet", "--parquet", str(tmp_path / "pq"))
    generator.send_signal(signal.SIGTERM)
    _, err = generator.communicate(timeout=60)
    assert generator.returncode == 143
    assert err.strip().splitlines() == [INTERRUPTED]
    assert os.listdir(tmp_path) == []


def test_sigkill_leaves_no_file_at_the_path_and_the_next_run_clears_the_rest(tmp_path):
    db = tmp_path / "w.duckdb"
    generator = start_generator(db, "--quiet")
    generator.kill()
    generator.communicate(timeout=60)
    assert not db.exists()
    assert os.listdir(tmp_path) == [partial_path(db, generator.pid).name]
    make_warehouse(db, customers=200)  # the partial's process is gone: removed
    assert os.listdir(tmp_path) == ["w.duckdb"]


def test_no_traceback_through_python_m(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "seeds_gen", "--db", str(tmp_path / "raw.duckdb")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == REFUSED
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_names_too_long_for_the_filesystem_are_one_line(tmp_path, capsys):
    long = "a" * 300
    got, lines = run(["--db", str(tmp_path / f"{long}.duckdb")], capsys)
    assert got == REFUSED and len(lines) == 1
    assert lines[0].endswith("the file name is longer than 234 bytes: shorten it")
    got, lines = run(["--db", str(tmp_path / long / "w.duckdb")], capsys)
    assert got == REFUSED and lines[0].endswith(": File name too long")
    args = ["--db", str(tmp_path / "w.duckdb"), "--parquet", str(tmp_path / long)]
    got, lines = run(args, capsys)
    assert got == REFUSED and lines == [f"error: --parquet {tmp_path / long}: File name too long"]
    assert os.listdir(tmp_path) == []
