"""Helpers of the loader's hostile-input tests: a small valid orders export to
break, and the two outcomes every case ends in. A refusal is exit 1 (2 for a
usage error), one line on stderr naming what is wrong and never the file's
contents, and the warehouse byte for byte as before (a new one not created).
A bad row is loaded and counted in the notes."""

from __future__ import annotations

import csv
import hashlib
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import yaml

from loader.cli import main

COLUMNS = [
    "order_id",
    "customer_id",
    "ordered_at",
    "status",
    "order_value",
    "discount_amount",
    "item_count",
]
# Every generated order id carries it: a message that shows it echoes the file.
SECRET = "SECRET"
START = datetime(2020, 1, 6, 9, 30)


def order_rows(orders: int = 200, customers: int = 40) -> list[dict[str, str]]:
    """A valid export: every customer orders every few days, most orders completed."""
    statuses = ["completed", "completed", "completed", "cancelled", "returned"]
    return [
        {
            "order_id": f"{SECRET}-{i:05d}",
            "customer_id": f"C{i % customers:03d}",
            "ordered_at": (START + timedelta(hours=61 * i)).isoformat(sep=" "),
            "status": statuses[i % len(statuses)],
            "order_value": f"{10 + (i * 7) % 90}.50",
            "discount_amount": "0",
            "item_count": str(1 + i % 3),
        }
        for i in range(orders)
    ]


def write_csv(
    path: Path,
    rows: list[dict[str, str]],
    header: list[str] | None = None,
    delimiter: str = ",",
    encoding: str = "utf-8",
    newline: str = "\n",
) -> Path:
    header = header or list(rows[0])
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter, lineterminator=newline)
        writer.writerow(header)
        writer.writerows([row.get(c, "") for c in header] for row in rows)
    return path


def write_mapping(folder: Path, source: dict | None = None, **top) -> Path:
    """mapping.yml in `folder`: orders from orders.csv, columns named as the contract."""
    mapping = {
        "timezone": "UTC",
        **top,
        "sources": {"orders": {"file": "orders.csv", **(source or {})}},
    }
    path = folder / "mapping.yml"
    path.write_text(yaml.safe_dump(mapping, sort_keys=False, allow_unicode=True))
    return path


@dataclass
class Result:
    code: int
    out: str
    err: str


def run(argv: list[str], capsys) -> Result:
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exited:  # a usage error
        code = exited.code
    out, err = capsys.readouterr()
    return Result(code, out, err)


def load(mapping: Path, db: Path, capsys, *extra) -> Result:
    result = run([mapping, "--db", db, *extra], capsys)
    assert result.code == 0, result.err
    return result


def fingerprint(db: Path) -> tuple[str | None, bool]:
    """The warehouse's bytes (None: no file) and whether a WAL file lies beside it."""
    digest = hashlib.sha256(db.read_bytes()).hexdigest() if db.exists() else None
    return digest, db.with_name(db.name + ".wal").exists()


def assert_one_line_error(result: Result, *expected: str, code: int = 1) -> str:
    assert result.code == code, (result.code, result.out, result.err)
    line = result.err
    assert line.startswith("error: ") and line.endswith("\n") and line.count("\n") == 1, line
    assert "Traceback" not in line and SECRET not in line, line
    for part in expected:
        assert part in line, (part, line)
    return line.strip()


def assert_refused_on(db: Path, argv: list, capsys, *expected: str, code: int = 1) -> str:
    """Refused in one line, and `db` byte for byte as before (still absent if it was)."""
    before = fingerprint(db)
    line = assert_one_line_error(run([*argv, "--db", db], capsys), *expected, code=code)
    assert fingerprint(db) == before, f"{db} changed"
    return line


def assert_refused(argv: list, capsys, existing: Path, *expected: str, code: int = 1) -> str:
    """Refused against a new warehouse (not created) and an existing one (untouched)."""
    new = existing.with_name("never_created.duckdb")
    assert_refused_on(new, argv, capsys, *expected, code=code)
    assert not new.exists()
    return assert_refused_on(existing, argv, capsys, *expected, code=code)


def copy_warehouse(source: Path, folder: Path) -> Path:
    return Path(shutil.copyfile(source, folder / "warehouse.duckdb"))
