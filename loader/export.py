"""Reading one export file into the temp table `export_file`, or refusing it.

A CSV file is read the way the mapping says (delimiter, quote, encoding), never
guessed: its bytes are checked against the encoding and its header is read here,
in Python, so that a wrong byte is named by line and column and a header naming
a column twice is refused (DuckDB would rename the second one `name_1`). DuckDB
then reads every field as text with those column names; the loader, not a
sniffer, decides each type. DuckDB's own CSV errors print the offending line:
they are never passed on, only their line number and the kind of problem.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import re
from contextlib import contextmanager
from pathlib import Path

import duckdb

from loader.mapping import SourceMapping
from loader.sql import literal

# DuckDB's default (2 MB) would refuse a row with a long free-text field; a
# longer line than this is refused with its line number.
MAX_LINE_BYTES = 64 << 20
CSV_SUFFIXES = (".csv", ".tsv", ".txt")
BLOCK_BYTES = 1 << 20
# export_file's own column: the row's position in the file, for messages.
ROW_NUMBER = "__loader_row_number"
# DuckDB's CSV errors, by the kind of problem: what to tell instead.
CSV_PROBLEMS = (
    (
        r"Expected Number of Columns: (\d+) Found: (\d+)",
        "{2} fields where the header has {1} (quote values that contain the delimiter,"
        " or check csv.delimiter and csv.quote)",
    ),
    (
        r"unterminated quote",
        "a quoted value that never ends (a quote inside a value is written twice;"
        " or check csv.quote)",
    ),
    (
        r"Maximum line size",
        f"longer than {MAX_LINE_BYTES >> 20} MB (a quoted value that never ends? check csv.quote)",
    ),
    (r"Invalid unicode", "bytes that are not {encoding} (set csv.encoding)"),
)


class LoadError(Exception):
    """A file cannot be loaded as mapped (one line: file, column, reason, fix)."""


def read_export(con: duckdb.DuckDBPyConnection, source: SourceMapping) -> dict[str, str]:
    """Copy the file into temp table `export_file`; returns its columns and their types."""
    path = source.file
    parquet = _is_parquet(path)
    _check_is_file(path, source.table)
    if parquet:
        relation, problem = f"read_parquet({literal(str(path))})", _parquet_problem
    else:
        header = csv_header(source)
        relation, problem = _read_csv_sql(source, header), _csv_problem
    try:
        con.execute(
            "create or replace temp table export_file as"
            f" select row_number() over () as {ROW_NUMBER}, * from {relation}"
        )
    except duckdb.Error as exc:
        raise LoadError(f"{path}: {problem(str(exc), source)}") from None
    types = dict(
        con.execute("select column_name, column_type from (describe export_file)").fetchall()
    )
    types.pop(ROW_NUMBER)
    if con.execute("select count(*) from export_file").fetchone()[0] == 0:
        raise LoadError(f"{path}: empty file (a header but no rows)")
    return types


def _is_parquet(path: Path) -> bool:
    suffix = path.name.lower().removesuffix(".gz")
    if path.name.lower().endswith(".parquet"):
        return True
    if suffix.endswith(CSV_SUFFIXES):
        return False
    raise LoadError(
        f"{path}: unsupported file type {path.suffix or '(none)'} (export CSV, TSV or Parquet)"
    )


def _check_is_file(path: Path, table: str) -> None:
    fix = f"check sources.{table}.file in the mapping, or --file {table}=PATH"
    if not path.exists():
        raise LoadError(f"{path}: no such file ({fix})")
    if not path.is_file():
        raise LoadError(f"{path}: not a file ({fix})")
    if path.stat().st_size == 0:
        raise LoadError(f"{path}: empty file (export it again with a header and rows)")


@contextmanager
def _open_bytes(path: Path):
    try:
        with gzip.open(path) if path.suffix.lower() == ".gz" else path.open("rb") as handle:
            yield handle
    except (OSError, EOFError) as exc:
        raise LoadError(f"{path}: cannot read: {exc.strerror or 'damaged gzip file'}") from None


def _codec(source: SourceMapping) -> str:
    """Python's codec for the file, reading a byte order mark as DuckDB does."""
    if source.encoding == "utf-8":
        return "utf-8-sig"
    if source.encoding == "latin-1":
        return "latin-1"
    with _open_bytes(source.file) as handle:
        mark = handle.read(2)
    if mark == b"\xfe\xff":
        raise LoadError(
            f"{source.file}: UTF-16 big-endian, which DuckDB does not read"
            " (convert it: iconv -f UTF-16BE -t UTF-8, and remove csv.encoding)"
        )
    return "utf-16" if mark == b"\xff\xfe" else "utf-16-le"


def where_in_file(source: SourceMapping, row_number: int) -> str:
    """A data row's place as the user finds it: a CSV line (the header is line 1;
    a value with line breaks counts as one line) or a Parquet row."""
    return f"row {row_number}" if _is_parquet(source.file) else f"line {row_number + 1}"


def csv_header(source: SourceMapping) -> list[str]:
    """The header's column names, after checking the whole file's encoding."""
    csv.field_size_limit(max(csv.field_size_limit(), MAX_LINE_BYTES))
    codec = _codec(source)
    bad = first_undecodable(source.file, codec)
    with _open_bytes(source.file) as raw:
        text = codecs.getreader(codec)(raw)
        try:
            header = next(csv.reader(text, delimiter=source.delimiter, quotechar=source.quote))
        except StopIteration:
            raise LoadError(f"{source.file}: empty file (export it again with a header)") from None
        except (csv.Error, UnicodeDecodeError):
            header = None
    if bad:
        line, prefix = bad
        raise LoadError(
            f"{source.file}: line {line}{_column_at(prefix, header, source)}:"
            f" bytes that are not {source.encoding} (set csv.encoding in the"
            " mapping to the export's encoding, or save the file as UTF-8)"
        )
    return _checked_names(source, header)


def _checked_names(source: SourceMapping, header: list[str] | None) -> list[str]:
    if not header or not any(name.strip() for name in header):
        raise LoadError(f"{source.file}: line 1: no header (the first line must name the columns)")
    if any("\x00" in name for name in header):
        raise LoadError(
            f"{source.file}: line 1: NUL bytes in the header (UTF-16? set csv.encoding: utf-16)"
        )
    names = [name.strip() or f"column{i + 1}" for i, name in enumerate(header)]
    seen: dict[str, str] = {}
    for name in names:
        if seen.setdefault(name.lower(), name) is not name:
            raise LoadError(
                f"{source.file}: line 1: column {name[:80]!r} appears twice in the header"
                " (rename one of them; names that differ only in case are the same)"
            )
    return names


def first_undecodable(path: Path, codec: str) -> tuple[int, bytes] | None:
    """(line number, that line's bytes before the bad one) of the first byte sequence
    that is not `codec`, or None. Blocks end on a line break, so a character is never
    split between two of them (UTF-16 aside, where the line is then approximate)."""
    if codec == "latin-1":
        return None  # every byte is a character
    decoder = codecs.getincrementaldecoder(codec)()
    line = 1
    with _open_bytes(path) as handle:
        while block := handle.read(BLOCK_BYTES):
            if codec.startswith("utf-8"):
                block += handle.readline()
            try:
                line += decoder.decode(block).count("\n")
            except UnicodeDecodeError as exc:
                good = block[: exc.start]
                line += good.decode(codec, errors="replace").count("\n")
                return line, good[good.rfind(b"\n") + 1 :]
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return line, b""
    return None


def _column_at(prefix: bytes, header: list[str] | None, source: SourceMapping) -> str:
    """', column NAME' for the field a line's prefix ends in, when it can be told."""
    if not header or not prefix:
        return ""
    text = prefix.decode(source.encoding, errors="replace")
    fields = next(csv.reader([text], delimiter=source.delimiter, quotechar=source.quote), [])
    index = max(len(fields) - 1, 0)
    return f", column {header[index].strip()[:80]!r}" if index < len(header) else ""


def _read_csv_sql(source: SourceMapping, header: list[str]) -> str:
    columns = ", ".join(f"{literal(name)}: 'VARCHAR'" for name in header)
    options = {
        "auto_detect": "false",
        "header": "true",
        "columns": f"{{{columns}}}",
        "delim": literal(source.delimiter),
        "quote": literal(source.quote),
        "escape": literal(source.quote),
        "encoding": literal(source.encoding),
        "max_line_size": str(MAX_LINE_BYTES),
    }
    listed = ", ".join(f"{key} = {value}" for key, value in options.items())
    return f"read_csv({literal(str(source.file))}, {listed})"


def _csv_problem(message: str, source: SourceMapping) -> str:
    """DuckDB's CSV error without the line it quotes: where, what, the fix."""
    line = re.search(r"CSV Error on Line: (\d+)", message)
    where = f"line {line[1]}: " if line else ""
    for pattern, reason in CSV_PROBLEMS:
        found = re.search(pattern, message)
        if found:
            groups = [found[0], *found.groups()]
            return where + reason.format(*groups, encoding=source.encoding)
    return where + "cannot be read as CSV (check csv.delimiter, csv.quote and csv.encoding)"


def _parquet_problem(message: str, source: SourceMapping) -> str:
    return "cannot be read as Parquet (the file is damaged, or not Parquet: check its name)"
