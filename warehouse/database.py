"""Where the warehouse lives and how it is written: one place, shared by the
generator, the export loader, the dbt profile (through the same environment
variable) and the modeling layer."""

from __future__ import annotations

import glob
import os
import re
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import duckdb

from warehouse.contract import RAW_SCHEMA, RAW_TABLES
from warehouse.lock import LockTimeout, writer_lock

DB_PATH_ENV_VAR = "CHURN_DB_PATH"
DEFAULT_DB_PATH = "data/warehouse.duckdb"
# The schemas a warehouse holds (raw contract, dbt layers, scores, the loader's and
# the generator's records) and the catalog names DuckDB reserves. DuckDB names a
# file's catalog after the file, so `raw.duckdb` makes `raw.orders` ambiguous.
WAREHOUSE_SCHEMAS = (RAW_SCHEMA, "staging", "intermediate", "marts", "scoring")
WAREHOUSE_SCHEMAS += ("loader", "generator", "truth")
DUCKDB_RESERVED_NAMES = ("main", "system", "temp", "memory")
INTERRUPTED = "interrupted: nothing was written"
# File names are at most 255 bytes; a write adds "." and ".partial-<pid>.wal" to it.
MAX_NAME_BYTES = 255 - len("..partial-4194304.wal")
NOT_A_DATABASE = "it is not a DuckDB database (point --db elsewhere, or move the file away)"


class WarehouseError(Exception):
    """A problem with the warehouse file itself (cannot open or write it); one line."""


class WarehousePathError(WarehouseError):
    """A warehouse path no database can live at (a folder, a reserved name)."""


class Terminated(SystemExit):
    """SIGTERM during a write, raised once the write is undone: exit status 143."""

    def __init__(self) -> None:
        super().__init__(128 + signal.SIGTERM)


def quote_identifier(name: str) -> str:
    """A name as a SQL identifier, whatever characters it holds."""
    return '"' + str(name).replace('"', '""') + '"'


def quote_literal(value: str | os.PathLike[str]) -> str:
    """A text (a path, a date) as a SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


def catalog_name(path: Path) -> str:
    """The name DuckDB gives a database file's catalog: the file name without
    leading dots, up to its first dot (`raw.v2.duckdb` -> `raw`)."""
    return path.name.lstrip(".").split(".", 1)[0]


def resolve_db_path(path: str | os.PathLike[str] | None = None) -> Path:
    """The warehouse file: an explicit path, else $CHURN_DB_PATH, else
    data/warehouse.duckdb. A WarehousePathError when no database can live there."""
    setting = "--db" if path else f"${DB_PATH_ENV_VAR}" if os.environ.get(DB_PATH_ENV_VAR) else ""
    resolved = Path(path or os.environ.get(DB_PATH_ENV_VAR) or DEFAULT_DB_PATH)
    named = f"{setting} {resolved}".strip()
    name = catalog_name(resolved)
    if name.lower() in WAREHOUSE_SCHEMAS + DUCKDB_RESERVED_NAMES:
        clash = "schema" if name.lower() in WAREHOUSE_SCHEMAS else "DuckDB's catalog"
        raise WarehousePathError(
            f"{named}: DuckDB names the database {name!r} after the file, the name of the"
            f" warehouse's {clash} {name.lower()!r} (raw.orders and the like become"
            f" ambiguous): name the file differently, e.g. {resolved.with_name('warehouse.duckdb')}"
        )
    if len(os.fsencode(resolved.name)) > MAX_NAME_BYTES:
        raise WarehousePathError(
            f"{named}: the file name is longer than {MAX_NAME_BYTES} bytes: shorten it"
        )
    try:
        is_folder = resolved.is_dir()
    except OSError as exc:  # a folder name in the path too long, a loop of links
        raise WarehousePathError(f"{named}: {exc.strerror}") from None
    if is_folder:
        raise WarehousePathError(
            f"{named} is a folder: give a file path, e.g. {resolved / 'warehouse.duckdb'}"
        )
    return resolved


def not_duckdb_file(path: Path) -> bool:
    """Whether `path` is a file with something else than a DuckDB database in it.
    DuckDB opens some such files (a CSV export given by mistake) as an empty
    in-memory database, where every write is lost, and others (SQLite) with an
    extension it downloads: so the header is checked first."""
    with path.open("rb") as file:
        head = file.read(12)
    return bool(head) and head[8:12] != b"DUCK"  # empty: DuckDB makes it a database


def open_error_reason(error: BaseException) -> str:
    """DuckDB's or the OS's reason a database cannot be opened, in a few words."""
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    if "not a valid DuckDB database" in text:
        return NOT_A_DATABASE
    if "Could not set lock" in text:
        pid = re.search(r"PID (\d+)", text)
        holder = f"process {pid.group(1)}" if pid else "another process"
        return f"{holder} has it open for writing: wait for it to finish, then run again"
    return re.sub(r"^\w+ Error: ", "", text)


def existing_raw_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The tables of the raw schema that exist in this database, by name."""
    rows = con.execute(
        "select table_name from information_schema.tables where table_schema = ? order by 1",
        [RAW_SCHEMA],
    ).fetchall()
    return [r[0] for r in rows]


def create_table_sql(schema: str, table: str) -> str:
    """`CREATE TABLE` statement for one raw table of the contract."""
    columns = ", ".join(f"{quote_identifier(n)} {kind}" for n, kind in RAW_TABLES[table].items())
    return f"CREATE TABLE {schema}.{table} ({columns})"


def partial_path(target: Path, pid: int | None = None) -> Path:
    """Where a write builds `target` before renaming it into place."""
    return target.with_name(f".{target.name}.partial-{pid or os.getpid()}")


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. another user's process
        return True
    return True


def remove_stale_partials(target: Path) -> None:
    """Remove what writes of `target` killed before they finished left behind:
    partials of processes that are gone, and one under this process's id (an
    earlier process's, since this one has not started its own yet)."""
    pattern = glob.escape(partial_path(target, 1).name[:-1]) + "*"
    for leftover in target.parent.glob(pattern):
        pid = leftover.name.rsplit("-", 1)[-1].removesuffix(".wal")
        if pid.isdigit() and (int(pid) == os.getpid() or not _process_alive(int(pid))):
            leftover.unlink(missing_ok=True)


def writable_folder_problem(folder: Path) -> str | None:
    """Why files cannot be written in `folder` (created if missing), or None."""
    try:
        existing = next(p for p in (folder, *folder.parents) if p.exists() or p == p.parent)
        if not existing.is_dir():
            return f"{existing} is a file, not a folder"
    except OSError as exc:  # a name too long, a loop of links
        return str(exc.strerror)
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"{existing} is not writable"
    return None


def make_folder(folder: Path) -> Path | None:
    """Create `folder` and missing parents; the topmost one created, else None."""
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    folder.mkdir(parents=True, exist_ok=True)
    return missing[-1] if missing else None


def remove_created(paths: list[Path], created_folder: Path | None, folder: Path) -> None:
    """Undo a failed write: its files, then the folders it created if left empty.
    Best effort: the failure that led here is the one to report."""
    for path in paths:
        with suppress(OSError):
            path.unlink()
    if created_folder is None:
        return
    for parent in (folder, *folder.parents):
        try:
            parent.rmdir()
        except OSError:
            return
        if parent == created_folder:
            return


class _SigtermAbort:
    """SIGTERM handler for the duration of a write: the first SIGTERM raises
    Terminated in the main thread, so the write is undone as for Ctrl-C; once the
    write commits (`defer`), SIGTERM waits until it is complete."""

    def __init__(self) -> None:
        self.received = False
        self.deferred = False

    def __call__(self, signum: int, frame: object) -> None:
        first, self.received = not self.received, True
        if first and not self.deferred:
            raise Terminated

    def defer(self) -> None:
        self.deferred = True


@contextmanager
def _sigterm_aborts() -> Iterator[_SigtermAbort]:
    """Install _SigtermAbort for the block (main thread only: signals arrive there)."""
    handler = _SigtermAbort()
    if threading.current_thread() is not threading.main_thread():
        yield handler
        return
    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield handler
    finally:  # None: a handler installed outside Python, which cannot be put back
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)
    if handler.received and handler.deferred:
        signal.raise_signal(signal.SIGTERM)  # arrived while committing: act on it now


def _connect(path: Path, shown: Path) -> duckdb.DuckDBPyConnection:
    try:
        if path.exists() and not_duckdb_file(path):
            raise WarehouseError(f"cannot open database {shown}: {NOT_A_DATABASE}")
        return duckdb.connect(str(path))
    except (OSError, duckdb.Error) as exc:
        raise WarehouseError(f"cannot open database {shown}: {open_error_reason(exc)}") from exc


def _make_folder(db_path: Path) -> Path | None:
    problem = writable_folder_problem(db_path.parent)
    try:
        if problem is None:
            return make_folder(db_path.parent)
    except OSError as exc:
        problem = open_error_reason(exc)
    raise WarehouseError(f"cannot open database {db_path}: {problem}")


def _publish(built: Path, target: Path) -> None:
    """Move a built database to its path, never over a file that appeared meanwhile."""
    try:
        os.link(built, target)
    except FileExistsError:
        raise WarehouseError(
            f"{target} was created by another process during this write: run again"
        ) from None
    except OSError:  # a filesystem without hard links
        try:
            os.replace(built, target)
        except OSError as exc:
            raise WarehouseError(f"cannot write database {target}: {exc}") from exc
    built.unlink(missing_ok=True)


@contextmanager
def _writer_lock(db_path: Path) -> Iterator[None]:
    """The warehouse's writer lock (warehouse.lock), its timeout as a WarehouseError."""
    try:
        with writer_lock(db_path):
            yield
    except LockTimeout as exc:
        raise WarehouseError(str(exc)) from None


@contextmanager
def all_or_nothing(db_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection inside one transaction: the warehouse gets all of the block's
    writes or none. An existing file is changed in one transaction, rolled back on
    failure. A new file is built as `.<name>.partial-<pid>` in the same folder and
    renamed into place on success, so even a killed process leaves no half-built
    warehouse at the path (the stray partial is removed by the next write there).
    SIGTERM during the block is a clean abort: undone, one line, exit 143. Another
    writer of the same warehouse is waited for (warehouse.lock)."""
    db_path = Path(db_path)
    with _writer_lock(db_path), _sigterm_aborts() as sigterm:
        building = not db_path.exists()
        work = partial_path(db_path) if building else db_path
        created, con = None, None
        try:
            if building:
                remove_stale_partials(db_path)
                created = _make_folder(db_path)
            con = _connect(work, db_path)
            con.execute("begin transaction")
            yield con
            sigterm.defer()
            con.execute("commit")
            con.close()
            if building:
                _publish(work, db_path)
        except BaseException:
            _undo(con, building, work, created, sigterm)
            raise


def _undo(con, building: bool, work: Path, created: Path | None, sigterm: _SigtermAbort) -> None:
    """Roll back (closing without commit does) and remove what the write created;
    after a SIGTERM, say so and exit 143."""
    sigterm.defer()  # a second SIGTERM must not interrupt the cleanup
    if con is not None:
        con.close()
    if building:
        remove_created([work, work.with_name(work.name + ".wal")], created, work.parent)
    if sigterm.received:
        print(INTERRUPTED, file=sys.stderr)
        raise Terminated from None
