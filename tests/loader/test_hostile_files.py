"""Export files that are hard to read: what is read correctly, and what is refused
in one line naming the file, the line or column and the fix, with nothing written."""

from __future__ import annotations

import gzip

import duckdb
import pytest

from tests.conftest import query
from tests.loader.hostile import (
    COLUMNS,
    SECRET,
    assert_refused,
    load,
    order_rows,
    write_csv,
    write_mapping,
)


def orders_csv(export, rows=None, **options):
    return write_csv(export / "orders.csv", rows or order_rows(), **options)


def stored(db, sql: str) -> list[tuple]:
    return query(db, sql)


@pytest.mark.parametrize(
    ("write", "expected"),
    [
        pytest.param(lambda p: p.write_bytes(b""), "orders.csv: empty file (export", id="empty"),
        pytest.param(
            lambda p: p.write_text(",".join(COLUMNS) + "\n"),
            "orders.csv: empty file (a header but no rows)",
            id="header-only",
        ),
        pytest.param(
            lambda p: p.write_bytes(b"\xef\xbb\xbf"), "orders.csv: empty file", id="only-a-bom"
        ),
        pytest.param(
            lambda p: p.write_text("\n\n" + ",".join(COLUMNS) + "\n"),
            "orders.csv: line 1: no header (the first line must name the columns)",
            id="blank-first-line",
        ),
    ],
)
def test_files_without_rows_are_refused(export, warehouse, capsys, write, expected):
    write(export / "orders.csv")
    assert_refused([export / "mapping.yml"], capsys, warehouse, expected)


def test_bom_crlf_quoted_delimiters_and_line_breaks_are_read(export, tmp_path, capsys):
    rows = order_rows()
    rows[3]["customer_id"] = "C,003"  # a quoted delimiter
    rows[4]["customer_id"] = 'C "quoted" 4'  # quotes doubled inside quotes
    rows[5]["customer_id"] = "C\r\n005"  # a line break inside a value
    path = orders_csv(export, rows, newline="\r\n")
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    db = tmp_path / "wh.duckdb"
    out = load(export / "mapping.yml", db, capsys).out
    assert "200 new of 200 rows" in out
    ids = [r[0] for r in stored(db, "select customer_id from raw.orders order by order_id")]
    # The line break is a control character: normalisation removes it, and says so.
    assert ids[3:6] == ["C,003", 'C "quoted" 4', "C005"]
    assert "1 row with a customer_id normalised" in out


def latin1_rows():
    rows = order_rows()
    rows[3]["customer_id"] = "Café-3"
    return rows


def test_latin1_is_refused_by_line_and_column_until_the_encoding_is_set(
    export, warehouse, tmp_path, capsys
):
    orders_csv(export, latin1_rows(), encoding="latin-1")
    assert_refused(
        [export / "mapping.yml"],
        capsys,
        warehouse,
        "orders.csv: line 5, column 'customer_id': bytes that are not utf-8"
        " (set csv.encoding in the mapping",
    )
    write_mapping(export, {"csv": {"encoding": "latin-1"}})
    db = tmp_path / "wh.duckdb"
    load(export / "mapping.yml", db, capsys)
    assert stored(db, "select count(*) from raw.orders where customer_id = 'Café-3'") == [(1,)]


def test_one_bad_byte_in_a_utf8_file_is_named_by_line_and_column(export, warehouse, capsys):
    rows = order_rows(orders=3000)
    rows[0]["customer_id"] = "Zoë"  # valid UTF-8 elsewhere in the file
    path = orders_csv(export, rows)
    lines = path.read_bytes().split(b"\n")
    fields = lines[2500].split(b",")  # line 2501
    fields[COLUMNS.index("status")] = b"compl\xe9ted"
    lines[2500] = b",".join(fields)
    path.write_bytes(b"\n".join(lines))
    assert_refused(
        [export / "mapping.yml"],
        capsys,
        warehouse,
        "orders.csv: line 2501, column 'status': bytes that are not utf-8",
    )


def test_utf16_is_read_when_declared(export, warehouse, tmp_path, capsys):
    orders_csv(export, latin1_rows(), encoding="utf-16")
    assert_refused(
        [export / "mapping.yml"], capsys, warehouse, "orders.csv: line 1: bytes that are not utf-8"
    )
    write_mapping(export, {"csv": {"encoding": "UTF-16"}})
    db = tmp_path / "wh.duckdb"
    load(export / "mapping.yml", db, capsys)
    assert stored(db, "select count(*) from raw.orders where customer_id = 'Café-3'") == [(1,)]
    orders_csv(export, encoding="utf-16-be")
    (export / "orders.csv").write_bytes(b"\xfe\xff" + (export / "orders.csv").read_bytes())
    assert_refused(
        [export / "mapping.yml"],
        capsys,
        warehouse,
        "orders.csv: UTF-16 big-endian, which DuckDB does not read (convert it",
    )


def test_a_5mb_field_is_loaded_and_its_overlong_id_counted(export, tmp_path, capsys):
    rows = order_rows()
    rows[7]["order_id"] = SECRET + "x" * 5_000_000
    orders_csv(export, rows)
    db = tmp_path / "wh.duckdb"
    out = load(export / "mapping.yml", db, capsys).out
    assert "200 new of 200 rows" in out
    assert "1 row with an order_id longer than 256 characters: quarantined as invalid_id" in out
    assert stored(db, "select max(length(order_id)) from raw.orders") == [(5_000_006,)]


def test_a_line_longer_than_64mb_is_refused_by_its_number(export, warehouse, capsys):
    path = orders_csv(export, order_rows(orders=10))
    lines = path.read_bytes().split(b"\n")
    lines[5] = SECRET.encode() + b"x" * (65 << 20) + lines[5]
    path.write_bytes(b"\n".join(lines))
    assert_refused(
        [export / "mapping.yml"], capsys, warehouse, "orders.csv: line 6: longer than 64 MB"
    )


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param(
            [*COLUMNS, "status"], "line 1: column 'status' appears twice in the header", id="exact"
        ),
        pytest.param(
            [*COLUMNS, "Status"],
            "line 1: column 'Status' appears twice in the header (rename one of them; names"
            " that differ only in case are the same)",
            id="case",
        ),
    ],
)
def test_a_duplicated_header_is_refused(export, warehouse, capsys, header, expected):
    orders_csv(export, header=header)
    assert_refused([export / "mapping.yml"], capsys, warehouse, "orders.csv: " + expected)


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        pytest.param(
            lambda line: line + b",extra",
            "orders.csv: line 8: 8 fields where the header has 7 (quote values that contain the"
            " delimiter",
            id="extra-field",
        ),
        pytest.param(
            lambda line: line.rsplit(b",", 1)[0],
            "orders.csv: line 8: 6 fields where the header has 7",
            id="missing-field",
        ),
        pytest.param(
            lambda line: line.replace(SECRET.encode(), b'"' + SECRET.encode()),
            "orders.csv: line 8: a quoted value that never ends",
            id="unterminated-quote",
        ),
    ],
)
def test_a_line_that_does_not_split_into_the_header_is_refused(
    export, warehouse, capsys, damage, expected
):
    path = orders_csv(export)
    lines = path.read_bytes().split(b"\n")
    lines[7] = damage(lines[7])
    path.write_bytes(b"\n".join(lines))
    line = assert_refused([export / "mapping.yml"], capsys, warehouse, expected)
    assert "Original Line" not in line  # DuckDB's message (which quotes the line) is not shown


def test_a_wrong_delimiter_says_so(export, warehouse, capsys):
    orders_csv(export, delimiter=";")
    assert_refused(
        [export / "mapping.yml"],
        capsys,
        warehouse,
        "orders.csv: missing required column customer_id of raw.orders (the header reads as one"
        " column: set csv.delimiter",
    )


def test_a_mapped_column_the_file_lacks_is_named_with_the_nearest(export, warehouse, capsys):
    write_mapping(export, {"columns": {"customer_id": "customer"}})
    assert_refused(
        [export / "mapping.yml"],
        capsys,
        warehouse,
        "orders.csv: no column 'customer' for customer_id (did you mean customer_id?)",
    )


@pytest.mark.parametrize(
    ("name", "write", "expected"),
    [
        pytest.param(
            "orders.xlsx",
            lambda p: p.write_bytes(b"PK\x03\x04"),
            "orders.xlsx: unsupported file type .xlsx (export CSV, TSV or Parquet)",
            id="xlsx",
        ),
        pytest.param(
            "orders.parquet",
            lambda p: p.write_text("order_id\n" + SECRET + "\n"),
            "orders.parquet: cannot be read as Parquet (the file is damaged, or not Parquet",
            id="not-parquet",
        ),
        pytest.param("orders.csv", lambda p: p.mkdir(), "orders.csv: not a file", id="directory"),
        pytest.param("absent.csv", lambda p: None, "absent.csv: no such file (check", id="absent"),
    ],
)
def test_files_that_are_not_exports(export, warehouse, capsys, name, write, expected):
    (export / "orders.csv").unlink()
    write(export / name)
    write_mapping(export, {"file": name})
    assert_refused([export / "mapping.yml"], capsys, warehouse, expected)


def test_a_gzipped_csv_is_read(export, tmp_path, capsys):
    data = orders_csv(export).read_bytes()
    (export / "orders.csv.gz").write_bytes(gzip.compress(data))
    write_mapping(export, {"file": "orders.csv.gz"})
    assert "200 new of 200 rows" in load(export / "mapping.yml", tmp_path / "wh.duckdb", capsys).out


def write_parquet(export, select: str):
    orders_csv(export)
    with duckdb.connect() as con:
        con.execute(
            f"copy (select {select} from read_csv('{export / 'orders.csv'}', all_varchar = true))"
            f" to '{export / 'orders.parquet'}' (format parquet)"
        )
    write_mapping(export, {"file": "orders.parquet"})


def test_parquet_with_text_amounts_and_timestamps_is_read_like_csv(export, tmp_path, capsys):
    write_parquet(export, "*")  # every column VARCHAR
    db = tmp_path / "wh.duckdb"
    assert "200 new of 200 rows" in load(export / "mapping.yml", db, capsys).out
    assert stored(db, "select typeof(order_value), typeof(ordered_at) from raw.orders limit 1") == [
        ("DOUBLE", "TIMESTAMP")
    ]


@pytest.mark.parametrize(
    ("select", "expected"),
    [
        pytest.param(
            "* replace (epoch(ordered_at::timestamp)::bigint as ordered_at)",
            "orders.parquet: column 'ordered_at' (ordered_at): 200 of 200 values are not"
            " timestamps (the file holds BIGINT: export them as timestamps or ISO text), the first"
            " at row 1",
            id="integer-timestamps",
        ),
        pytest.param(
            "* replace ({'amount': order_value, 'currency': 'EUR'} as order_value)",
            "orders.parquet: column 'order_value' (order_value) holds STRUCT values, which cannot"
            " be loaded",
            id="struct-amounts",
        ),
        pytest.param(
            "* replace ([customer_id] as customer_id)",
            "orders.parquet: column 'customer_id' (customer_id) holds VARCHAR[] values",
            id="list-ids",
        ),
    ],
)
def test_parquet_types_that_cannot_be_interpreted_are_refused(
    export, warehouse, capsys, select, expected
):
    write_parquet(export, select)
    assert_refused([export / "mapping.yml"], capsys, warehouse, expected)


def test_an_unmapped_struct_column_is_ignored(export, tmp_path, capsys):
    write_parquet(export, "*, {'a': 1} as extra")
    assert "200 new" in load(export / "mapping.yml", tmp_path / "wh.duckdb", capsys).out


def test_a_tsv_is_read_with_tabs_and_the_default_delimiter_is_a_setting(export, tmp_path, capsys):
    orders_csv(export, delimiter="\t").rename(export / "orders.tsv")
    write_mapping(export, {"file": "orders.tsv"})
    db = tmp_path / "wh.duckdb"
    assert "200 new of 200 rows" in load(export / "mapping.yml", db, capsys).out
    # Spelling out the default changes no setting: the same file is skipped.
    write_mapping(export, {"file": "orders.tsv", "csv": {"delimiter": "\t"}})
    assert "skipped, same content" in load(export / "mapping.yml", db, capsys).out


def test_names_with_line_breaks_stay_on_one_line(export, warehouse, capsys):
    orders_csv(export, header=["customer\nid" if c == "customer_id" else c for c in COLUMNS])
    write_mapping(export, {"columns": {"customer_id": "customer id"}})
    assert_refused(
        [export / "mapping.yml"],
        capsys,
        warehouse,
        "no column 'customer id' for customer_id (did you mean customer\\nid?)",
    )
