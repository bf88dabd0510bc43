"""One writer of a warehouse at a time, the others waiting their turn.

DuckDB lets one process write a database file; a second writer fails at once
with a lock error. Every writer of ours (the generator, the loader, scoring,
and `dbt build` through the dbt plugin) first takes an exclusive lock on a
file next to the warehouse and waits for it, saying once whom it waits for,
so two builds, or a load during a build, run one after the other. The lock
is an flock on the warehouse file itself (independent of DuckDB's own
fcntl locks, and no file of its own to leave behind); it belongs to the open
file, so a killed writer releases it with its process. A warehouse that does
not exist yet needs none: its builders each write a partial file and only
one can move it into place (warehouse.database).
"""

from __future__ import annotations

import fcntl
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

WAIT_ENV_VAR = "CHURN_WRITE_WAIT_SECONDS"
DEFAULT_WAIT_SECONDS = 3600.0
_held_for_process: list = []
_held: dict[Path, int] = {}  # lock file -> depth, so one process can nest its writes


class LockTimeout(Exception):
    """Another process kept the warehouse for longer than we wait (one line)."""


def _wait_seconds() -> float:
    try:
        return float(os.environ.get(WAIT_ENV_VAR, DEFAULT_WAIT_SECONDS))
    except ValueError:
        return DEFAULT_WAIT_SECONDS


def _acquire(fd: int, db_path: Path) -> None:
    deadline, told = time.monotonic() + _wait_seconds(), False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise LockTimeout(
                    f"{db_path} is being written by another process: waited"
                    f" {_wait_seconds():.0f} s; run again when it has finished"
                    f" (or set {WAIT_ENV_VAR})"
                ) from None
            if not told:
                print(f"waiting for another writer of {db_path} to finish", file=sys.stderr)
                told = True
            time.sleep(0.2)


@contextmanager
def writer_lock(db_path: Path) -> Iterator[None]:
    """Hold the warehouse's writer lock for the block, waiting for it if needed."""
    path = Path(db_path).resolve()
    if path in _held:
        _held[path] += 1
        try:
            yield
        finally:
            _held[path] -= 1
        return
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # a new warehouse (see the docstring), or a path the caller refuses
        yield
        return
    try:
        _acquire(fd, Path(db_path))
        _held[path] = 1
        try:
            yield
        finally:
            del _held[path]
    finally:
        os.close(fd)  # releases the lock


def hold_for_process(db_path: Path) -> None:
    """Take the writer lock until the process exits (dbt's plugin: a dbt run writes
    from its first to its last statement)."""
    held = writer_lock(db_path)
    held.__enter__()  # released when the process ends
    _held_for_process.append(held)  # a dropped context would be collected, and release it
