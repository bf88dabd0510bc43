"""Other processes the hostile-input tests need: a writer holding a warehouse's
lock, a generator to interrupt. Shared by tests/seeds_gen, tests/modeling and
tests/warehouse."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HOLD_OPEN = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
print("open", flush=True)
sys.stdin.read()
"""


@contextmanager
def held_open(db: Path) -> Iterator[subprocess.Popen]:
    """Another process with `db` open for writing (DuckDB's file lock) for the block."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_OPEN, str(db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        yield holder
    finally:
        holder.communicate("")  # end of stdin: it exits


def wait_for(path: Path, process: subprocess.Popen, size: int = 0, timeout: float = 60.0) -> None:
    """Until `path` exists and holds more than `size` bytes (the process is writing)."""
    deadline = time.monotonic() + timeout
    while not (path.exists() and path.stat().st_size > size):
        assert process.poll() is None, f"exited early: {process.communicate()}"
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.05)
