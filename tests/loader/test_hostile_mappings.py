"""A mapping mistake is refused before anything is read or written: one line
naming the mapping file, the key path, the reason and the fix."""

from __future__ import annotations

import os

import pytest

from tests.loader.hostile import assert_refused, assert_refused_on, load, write_mapping

MAPPING = "mapping.yml: "


def mapping_text(folder, text: str):
    path = folder / "mapping.yml"
    path.write_text(text)
    return path


# id: (keys of the orders source, what the error says after "sources.orders.")
SOURCE_MISTAKES = {
    "csv-key": ({"csv": {"delimter": ";"}}, "csv.delimter: unknown key (did you mean delimiter?)"),
    "currency-key": (
        {"currency": {"colum": "c", "rates": {"EUR": 1}}},
        "currency.colum: unknown key (did you mean column?)",
    ),
    "source-key": (
        {"timestamp_fmt": "%Y"},
        "timestamp_fmt: unknown key (did you mean timestamp_format?)",
    ),
    "values-a-list": (
        {"values": ["completed"]},
        "values: must be a mapping (key: value), got a list (category column:",
    ),
    "values-not-lists": (
        {"values": {"status": {"completed": "Shipped"}}},
        "values.status.completed: must be a list ([a, b]), got text",
    ),
    "values-boolean": (
        {"values": {"status": {"completed": [True]}}},
        "values.status.completed[0]: True is a YAML boolean: quote the value",
    ),
    "values-unknown-contract-value": (
        {"values": {"status": {"canceled": ["x"]}}},
        "values.status.canceled: not an accepted status (did you mean cancelled?)",
    ),
    "values-ambiguous": (
        {"values": {"status": {"completed": ["Done"], "returned": ["done"]}}},
        "values.status.returned: 'done' is also listed under completed",
    ),
    "values-unknown-column": (
        {"values": {"state": {"completed": ["Done"]}}},
        "values.state: not a category column of raw.orders (did you mean status?)",
    ),
    **{
        f"divisor-{shown}": (
            {"amount_divisor": value},
            f"amount_divisor: must be a finite positive number, got {shown}"
            " (e.g. amount_divisor: 100 for amounts in cents)",
        )
        for value, shown in [
            ("hundred", "'hundred'"),
            (float("nan"), "nan"),
            (float("inf"), "inf"),
            (0, "0"),
            (-1, "-1"),
        ]
    },
    "rate-nan": (
        {"currency": {"column": "c", "rates": {"GBP": float("nan")}}},
        "currency.rates.GBP: must be a finite positive number, got nan",
    ),
    "rates-empty": (
        {"currency": {"column": "c", "rates": {}}},
        "currency.rates: needs at least one rate",
    ),
    "delimiter-two-characters": (
        {"csv": {"delimiter": ";;"}},
        "csv.delimiter: ';;' is not one character (other than a line break)",
    ),
    "decimal-separator": (
        {"csv": {"decimal_separator": "_"}},
        "csv.decimal_separator: '_' is not a decimal separator ('.' or ',')",
    ),
    "encoding-not-built-in": (
        {"csv": {"encoding": "cp1252"}},
        "csv.encoding: 'cp1252' is not read offline (DuckDB reads utf-8, latin-1 and utf-16",
    ),
    "encoding-unknown": (
        {"csv": {"encoding": "klingon"}},
        "csv.encoding: unknown encoding 'klingon' (utf-8, latin-1 or utf-16)",
    ),
    "timestamp-format-invalid": (
        {"timestamp_format": "%d/%m/%Y %Q"},
        "timestamp_format: '%d/%m/%Y %Q' is not a valid pattern",
    ),
    "timestamp-format-no-directive": (
        {"timestamp_format": "dd/mm/yyyy"},
        "timestamp_format: 'dd/mm/yyyy' has no % directive",
    ),
    "unknown-contract-column": (
        {"columns": {"order_total": "order_value"}},
        "columns.order_total: not a column of raw.orders (did you mean order_value?)",
    ),
    "constant-category": (
        {"constants": {"status": "complete"}},
        "constants.status: 'complete' is not an accepted status (did you mean completed?)",
    ),
    "constant-type": (
        {"constants": {"item_count": 1.5}},
        "constants.item_count: must be a whole number, got 1.5 (e.g. item_count: 1)",
    ),
    "constant-infinite": (
        {"constants": {"order_value": float("inf")}},
        "constants.order_value: must be a finite number, got inf",
    ),
    "constant-id": (
        {"constants": {"customer_id": "C1"}},
        "constants.customer_id: an id cannot be a constant",
    ),
    "constant-event-time": (
        {"constants": {"ordered_at": "2020-01-01"}},
        "constants.ordered_at: an event time cannot be a constant",
    ),
}
# id: (top-level keys, the error after the mapping file's name)
TOP_MISTAKES = {
    "top-key": ({"timezon": "UTC"}, "timezon: unknown key (did you mean timezone?)"),
    "timezone-typo": (
        {"timezone": "Europe/Berlinn"},
        "timezone: unknown time zone 'Europe/Berlinn' (did you mean Europe/Berlin?)",
    ),
    "timezone-abbreviation": ({"timezone": "CEST"}, "timezone: unknown time zone 'CEST' ("),
}
MISTAKES = [
    *[
        pytest.param({}, source, "sources.orders." + said, id=i)
        for i, (source, said) in SOURCE_MISTAKES.items()
    ],
    *[pytest.param(top, {}, said, id=i) for i, (top, said) in TOP_MISTAKES.items()],
]


@pytest.mark.parametrize(("top", "source", "expected"), MISTAKES)
def test_mapping_mistakes_are_refused_in_one_line(export, warehouse, capsys, top, source, expected):
    mapping = write_mapping(export, source, **top)
    assert_refused([mapping], capsys, warehouse, MAPPING + expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("", "mapping.yml: must be a mapping (key: value), got nothing", id="empty"),
        pytest.param("timezone: UTC\n", "mapping.yml: sources: required", id="no-sources"),
        pytest.param(
            "sources:\n  reviews: {file: orders.csv}\n",
            "mapping.yml: sources: orders is required",
            id="no-orders",
        ),
        pytest.param(
            "sources:\n  orderz: {file: orders.csv}\n",
            "mapping.yml: sources.orderz: unknown key (did you mean orders?)",
            id="unknown-table",
        ),
        pytest.param(
            "sources:\n  orders: {file: orders.csv}\n  reviews:\n",
            "mapping.yml: sources.reviews: must be a mapping (key: value), got nothing",
            id="null-source",
        ),
        pytest.param(
            "timezone: UTC\ntimezone: Europe/Berlin\nsources: {orders: {file: orders.csv}}\n",
            "mapping.yml: line 2: not valid YAML: key 'timezone' appears twice (keep one)",
            id="duplicate-key",
        ),
        pytest.param(
            "sources: {orders: {file: [orders.csv}}\n",
            "mapping.yml: line 1: not valid YAML:",
            id="invalid-yaml",
        ),
        pytest.param(
            "sources: !!python/object:os.system {}\n",
            "mapping.yml: line 1: not valid YAML:",
            id="python-tag",
        ),
    ],
)
def test_broken_mapping_files_are_refused_in_one_line(export, warehouse, capsys, text, expected):
    assert_refused([mapping_text(export, text)], capsys, warehouse, expected)


def test_a_mapping_that_is_not_utf8_or_not_there(export, warehouse, capsys):
    latin = export / "mapping.yml"
    latin.write_bytes("# Zeitzone für die Bestellungen\ntimezone: UTC\n".encode("latin-1"))
    assert_refused([latin], capsys, warehouse, "mapping.yml: not UTF-8 text (save the mapping")
    assert_refused([export / "none.yml"], capsys, warehouse, "cannot read mapping", "none.yml")
    assert_refused([export], capsys, warehouse, "cannot read mapping")


@pytest.mark.parametrize(
    ("file", "expected"),
    [
        pytest.param(
            "/etc/passwd",
            "sources.orders.file: an absolute path (give a path inside",
            id="absolute",
        ),
        pytest.param(
            "../outside/orders.csv",
            "sources.orders.file: leads outside the mapping's folder through '..'",
            id="dot-dot",
        ),
        pytest.param(
            "linked.csv",
            "sources.orders.file: leads outside the mapping's folder through a symbolic link",
            id="symlink",
        ),
    ],
)
def test_a_mappings_file_stays_inside_its_folder(export, warehouse, capsys, file, expected):
    outside = export.parent / "outside"
    outside.mkdir()
    (export / "orders.csv").rename(outside / "orders.csv")
    os.symlink(outside / "orders.csv", export / "linked.csv")
    mapping = write_mapping(export, {"file": file})
    line = assert_refused([mapping], capsys, warehouse, expected)
    assert "or pass the file on the command line: --file orders=PATH" in line
    # Named on the command line, the same file is the user's explicit choice.
    load(mapping, warehouse, capsys, "--file", f"orders={outside / 'orders.csv'}")


def test_a_symlink_inside_the_folder_is_followed(export, tmp_path, capsys):
    (export / "data").mkdir()
    (export / "orders.csv").rename(export / "data" / "orders.csv")
    os.symlink(export / "data" / "orders.csv", export / "orders.csv")
    load(write_mapping(export), tmp_path / "wh.duckdb", capsys)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        pytest.param(
            ["--file", "order=x.csv"],
            "--file 'order=x.csv': no raw table 'order' (did you mean orders?)",
            id="file-unknown-table",
        ),
        pytest.param(["--file", "orders"], "--file 'orders': expected TABLE=PATH", id="file-no-="),
        pytest.param(
            ["--file", "orders=a.csv", "--file", "orders=b.csv"],
            "--file orders=...: given twice",
            id="file-twice",
        ),
        pytest.param(
            ["--loaded-at", "yesterday"],
            "--loaded-at 'yesterday': auto, event, now or an ISO timestamp",
            id="loaded-at",
        ),
    ],
)
def test_bad_flags_are_usage_errors(export, warehouse, capsys, argv, expected):
    assert_refused([export / "mapping.yml", *argv], capsys, warehouse, expected, code=2)


def test_a_source_named_on_the_command_line_must_be_in_the_mapping(export, warehouse, capsys):
    assert_refused(
        [export / "mapping.yml", "--file", f"reviews={export / 'orders.csv'}"],
        capsys,
        warehouse,
        "--file reviews=...: the mapping has no source reviews (add sources.reviews",
    )


def test_a_db_that_is_not_a_duckdb_file_is_refused(export, capsys):
    # DuckDB would open the CSV as an empty in-memory database: the load would vanish.
    not_a_warehouse = export / "orders.csv"
    assert_refused_on(
        not_a_warehouse,
        [export / "mapping.yml"],
        capsys,
        "orders.csv: not a DuckDB warehouse (give the warehouse file",
    )
