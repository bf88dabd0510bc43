"""The mapping file of the export loader: how a shop's export files become the
raw contract (`warehouse.contract.RAW_TABLES`).

    timezone: Europe/Berlin          # IANA name, of naive timestamps in the files (default UTC)
    sources:
      orders:                        # a raw table; only orders is required
        file: orders.csv             # CSV or Parquet, inside this file's folder
        columns:                     # contract column: column in the file
          order_id: Order Number     # (a contract column not listed is read from a
          customer_id: Customer      #  file column of the same name, if any)
          ordered_at: Created
          status: State
          order_value: Total
        constants: {discount_amount: 0, item_count: 1}   # columns the export lacks
        timestamp_format: "%d/%m/%Y %H:%M"               # strptime; default ISO 8601
        amount_divisor: 100                              # e.g. amounts in cents
        currency: {column: Currency, rates: {EUR: 1.0, GBP: 1.17}}
        values:                      # category values -> contract values
          status: {completed: [shipped, delivered], cancelled: [voided], returned: [refunded]}
        csv: {delimiter: ";", decimal_separator: ",", encoding: latin-1, quote: '"'}

The structure and types are checked by pydantic, the contract (columns, values,
constants, files) by `_check_source`. Every mistake is a MappingError of one
line: `<mapping file>: <key path>: <reason> (<fix>)`. Documented with an example
in examples/ and the README ("Use your own data").
"""

from __future__ import annotations

import codecs
import difflib
import json
import math
import zoneinfo
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Annotated, Any

import duckdb
import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from warehouse.contract import (
    ACCEPTED_VALUES,
    EVENT_TIME_COLUMN,
    ID_COLUMN,
    LOADED_AT_COLUMN,
    RAW_TABLES,
    REQUIRED_RAW_TABLES,
)

# Columns that may change between two exports of the same event (an order later
# returned): left out of a derived id so the event keeps its id.
MUTABLE_COLUMNS = {"status"}
MONEY_COLUMNS = {"order_value", "discount_amount"}
# Every column holding an id (event ids, customer_id, reviews.order_id): written
# through warehouse.ids.normalized_id_sql.
ID_COLUMNS = set(ID_COLUMN.values())
# Contract columns an export may lack entirely: event ids are derived from the
# row's content, and a customers table's attributes are unknown ('unknown' in staging).
OPTIONAL_COLUMNS = {ID_COLUMN[t] for t in RAW_TABLES if t != "customers"} | {
    "segment",
    "acquisition_channel",
    "country",
    "order_id",  # reviews.order_id
}
# csv.encoding: Python's name of the codec -> DuckDB's. These are the encodings
# DuckDB's CSV reader has built in; the others need its `encodings` extension,
# which is downloaded on first use (not offline).
CSV_ENCODINGS = {
    "utf-8": "utf-8",
    "utf-8-sig": "utf-8",
    "ascii": "utf-8",
    "iso8859-1": "latin-1",
    "utf-16": "utf-16",
    "utf-16-le": "utf-16",
}
# The fix printed after a reason, by the innermost key it concerns.
FIXES = {
    "timezone": "an IANA name such as Europe/Berlin or UTC",
    "sources": f"raw tables: {', '.join(RAW_TABLES)}; each with at least file:",
    "file": "a CSV or Parquet file next to the mapping",
    "columns": "contract column: the export's column, e.g. customer_id: Customer",
    "constants": "contract column: value, e.g. item_count: 1",
    "timestamp_format": "a strptime pattern such as '%d/%m/%Y %H:%M'",
    "amount_divisor": "e.g. amount_divisor: 100 for amounts in cents",
    "currency": "currency: {column: Currency, rates: {EUR: 1.0, GBP: 1.17}}",
    "rates": "the value of one unit in the shop's currency, e.g. GBP: 1.17",
    "values": "category column: {contract value: [export values]},"
    " e.g. status: {completed: [Shipped, Delivered]}",
    "csv": 'csv: {delimiter: ";", decimal_separator: ",", encoding: latin-1}',
    "delimiter": "one character, e.g. ';' or '\\t'",
    "quote": "one character, e.g. '\"'",
    "decimal_separator": "'.' or ','",
    "encoding": "utf-8, latin-1 or utf-16",
}


class MappingError(Exception):
    """The mapping file is wrong (one line: the file, the key, the reason, the fix)."""


def did_you_mean(word: object, choices, otherwise: str | None = None) -> str:
    """The fix for a misspelt name: the nearest choice, else what is possible."""
    choices = [str(c) for c in choices]
    by_lower = {c.lower(): c for c in choices}
    near = by_lower.get(str(word).lower()) or next(
        iter(difflib.get_close_matches(str(word), choices, n=1)), None
    )
    if near:
        return f"did you mean {near}?"
    return otherwise or f"one of: {', '.join(choices)}"


@cache
def known_timezones() -> frozenset[str]:
    """IANA time zone names (from the system or tzdata; else DuckDB's own list)."""
    zones = zoneinfo.available_timezones() - {"localtime", "posixrules", "Factory"}
    if not zones:
        with duckdb.connect() as con:
            zones = {r[0] for r in con.execute("select name from pg_timezone_names()").fetchall()}
    return frozenset(zones)


def _finite_positive(value: object) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ValueError(f"must be a finite positive number, got {value!r}")
    return float(value)


def _export_value(value: object) -> str:
    """A value as the export writes it; a YAML boolean lost its spelling."""
    if isinstance(value, bool):
        raise ValueError(f"{value} is a YAML boolean: quote the value as written in the export")
    if not isinstance(value, (str, int, float)):
        raise ValueError(f"must be a value as written in the export, got {type(value).__name__}")
    return str(value)


PositiveNumber = Annotated[float, BeforeValidator(_finite_positive)]
ExportValue = Annotated[str, BeforeValidator(_export_value)]


class _Strict(BaseModel):
    """Unknown keys are refused with the nearest known one."""

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key in data:
                if key not in cls.model_fields:
                    raise ValueError(f"{key}: unknown key ({did_you_mean(key, cls.model_fields)})")
        return data


class Csv(_Strict):
    delimiter: str | None = None  # default: ',' (a tab for .tsv)
    decimal_separator: str = "."
    encoding: str = "utf-8"
    quote: str = '"'

    @field_validator("delimiter", "quote")
    @classmethod
    def _one_character(cls, value: str | None) -> str | None:
        if value is not None and (len(value) != 1 or value in "\r\n"):
            raise ValueError(f"{value!r} is not one character (other than a line break)")
        return value

    @field_validator("decimal_separator")
    @classmethod
    def _separator(cls, value: str) -> str:
        if value not in (".", ","):
            raise ValueError(f"{value!r} is not a decimal separator")
        return value

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, value: str) -> str:
        try:
            name = codecs.lookup(value).name
        except LookupError:
            raise ValueError(f"unknown encoding {value!r}") from None
        if name not in CSV_ENCODINGS:
            raise ValueError(
                f"{value!r} is not read offline (DuckDB reads utf-8, latin-1 and utf-16:"
                f" convert the file first, e.g. iconv -f {value} -t utf-8)"
            )
        return CSV_ENCODINGS[name]

    @model_validator(mode="after")
    def _distinct(self) -> Csv:
        if self.delimiter is not None and self.delimiter == self.quote:
            raise ValueError("delimiter and quote are the same character")
        return self


class Currency(_Strict):
    column: str
    rates: dict[str, PositiveNumber]

    @field_validator("rates")
    @classmethod
    def _some(cls, value: dict[str, float]) -> dict[str, float]:
        if not value:
            raise ValueError("needs at least one rate")
        return {code.strip().upper(): rate for code, rate in value.items()}


class Source(_Strict):
    file: str
    columns: dict[str, str] = {}
    constants: dict[str, Any] = {}
    timestamp_format: str | None = None
    amount_divisor: PositiveNumber = 1.0
    currency: Currency | None = None
    values: dict[str, dict[str, list[ExportValue]]] = {}
    csv: Csv = Csv()

    @field_validator("timestamp_format")
    @classmethod
    def _strptime_pattern(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if "%" not in value:
            raise ValueError(f"{value!r} has no % directive")
        with duckdb.connect() as con:
            try:
                con.execute("select try_strptime('', ?)", [value])
            except duckdb.Error as exc:
                reason = str(exc).splitlines()[0].rsplit(": ", 1)[-1]
                raise ValueError(f"{value!r} is not a valid pattern: {reason}") from None
        return value


Sources = create_model(
    "Sources", __base__=_Strict, **{table: (Source, None) for table in RAW_TABLES}
)


class MappingFile(_Strict):
    timezone: str = "UTC"
    sources: Sources  # type: ignore[valid-type]

    @field_validator("timezone")
    @classmethod
    def _iana(cls, value: str) -> str:
        if value not in known_timezones():
            raise ValueError(
                f"unknown time zone {value!r}"
                f" ({did_you_mean(value, sorted(known_timezones()), FIXES['timezone'])})"
            )
        return value


@dataclass(frozen=True)
class SourceMapping:
    """One source, checked, as the loader applies it."""

    table: str
    file: Path
    timezone: str = "UTC"
    columns: dict[str, str] = field(default_factory=dict)
    constants: dict[str, object] = field(default_factory=dict)
    timestamp_format: str | None = None
    amount_divisor: float = 1.0
    currency_column: str | None = None
    currency_rates: dict[str, float] = field(default_factory=dict)
    # category column -> contract value -> export values, lower-cased and sorted
    values: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    delimiter: str = ","
    decimal_separator: str = "."
    encoding: str = "utf-8"
    quote: str = '"'

    def settings(self) -> str:
        """What the mapping makes of a file, as canonical JSON (the file itself aside):
        the same file loaded with other settings would give other rows."""
        settings = {k: v for k, v in asdict(self).items() if k not in ("table", "file")}
        return json.dumps(settings, sort_keys=True, default=str)


@dataclass(frozen=True)
class Mapping:
    path: Path
    timezone: str
    sources: dict[str, SourceMapping]


def _fail(path: Path, where: str, message: str) -> MappingError:
    return MappingError(f"{path}: {where}: {message}" if where else f"{path}: {message}")


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML, but a key given twice is an error instead of the last one winning."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
                continue
            key = self.construct_object(key_node)
            if key in seen:
                raise yaml.MarkedYAMLError(
                    problem=f"key {key!r} appears twice (keep one)",
                    problem_mark=key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _parse_yaml(path: Path) -> object:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise MappingError(f"cannot read mapping {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise MappingError(f"{path}: not UTF-8 text (save the mapping as UTF-8)") from None
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader: no Python tags
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}" if mark else ""
        raise _fail(path, where, f"not valid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise _fail(path, "", f"not valid YAML: {str(exc).splitlines()[0]}") from None


def _validation_error(path: Path, error: ValidationError) -> MappingError:
    """The first pydantic error as one line: key path, reason, fix."""
    first = error.errors()[0]
    loc = [f"[{part}]" if isinstance(part, int) else str(part) for part in first["loc"]]
    reason = str(first["msg"]).removeprefix("Value error, ")
    if first["type"] == "value_error" and ": unknown key (" in reason:
        key, rest = reason.rsplit(": unknown key (", 1)
        loc.append(key)
        reason = f"unknown key ({rest}"
    elif first["type"] == "missing":
        reason = "required"
    elif first["type"] in ("dict_type", "model_type"):
        reason = f"must be a mapping (key: value), got {_kind(first['input'])}"
    elif first["type"] == "list_type":
        reason = f"must be a list ([a, b]), got {_kind(first['input'])}"
    elif first["type"] == "string_type":
        reason = f"must be text, got {_kind(first['input'])}"
    if not loc:
        return _fail(path, "", f"{reason} (timezone: and sources:)")
    fix = next((FIXES[part] for part in reversed(loc) if part in FIXES), None)
    if fix and not reason.endswith(")"):
        reason = f"{reason} ({fix})"
    return _fail(path, ".".join(loc).replace(".[", "["), reason)


def _kind(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "a YAML boolean"
    return {dict: "a mapping", list: "a list", str: "text"}.get(type(value), repr(value))


def read_mapping(path: Path, files: dict[str, Path] | None = None) -> Mapping:
    """Parse and check a mapping file; `files` replaces sources' files (a later export,
    any path: the user named it, so the mapping's own `file` is not used)."""
    try:
        parsed = MappingFile.model_validate(_parse_yaml(path))
    except ValidationError as error:
        raise _validation_error(path, error) from None
    given = {t: s for t, s in parsed.sources if s is not None}
    for table in REQUIRED_RAW_TABLES:
        if table not in given:
            raise _fail(path, "sources", f"{table} is required ({FIXES['sources']})")
    files = files or {}
    for table in files:
        if table not in given:
            raise MappingError(
                f"--file {table}=...: the mapping has no source {table} (add sources.{table}"
                f" with its columns to {path})"
            )
    sources = {t: _source(path, t, s, parsed.timezone, files.get(t)) for t, s in given.items()}
    return Mapping(path=path, timezone=parsed.timezone, sources=sources)


def _source(
    path: Path, table: str, source: Source, timezone: str, file: Path | None
) -> SourceMapping:
    _check_source(path, table, source)
    file = file or _resolve_file(path, table, source.file)
    return SourceMapping(
        table=table,
        file=file,
        timezone=timezone,
        columns=dict(source.columns),
        constants=dict(source.constants),
        timestamp_format=source.timestamp_format,
        amount_divisor=source.amount_divisor,
        currency_column=source.currency.column if source.currency else None,
        currency_rates=dict(source.currency.rates) if source.currency else {},
        values={
            column: {target: sorted({v.lower() for v in names}) for target, names in groups.items()}
            for column, groups in source.values.items()
        },
        delimiter=source.csv.delimiter or _default_delimiter(file),
        decimal_separator=source.csv.decimal_separator,
        encoding=source.csv.encoding,
        quote=source.csv.quote,
    )


def _default_delimiter(file: Path) -> str:
    """Never guessed from the content: a comma, or a tab in a .tsv (.tsv.gz) file."""
    return "\t" if file.name.lower().removesuffix(".gz").endswith(".tsv") else ","


def _resolve_file(path: Path, table: str, name: str) -> Path:
    """The source's file, inside the mapping's folder: a mapping cannot reach
    elsewhere (a file outside is named on the command line instead)."""
    folder = path.parent.resolve()
    where = f"sources.{table}.file"
    fix = f"give a path inside {folder}, or pass the file on the command line: --file {table}=PATH"
    if not name.strip():
        raise _fail(path, where, f"empty ({FIXES['file']})")
    if Path(name).is_absolute():
        raise _fail(path, where, f"an absolute path ({fix})")
    resolved = (folder / name).resolve()
    if not resolved.is_relative_to(folder):
        how = "through '..'" if ".." in Path(name).parts else "through a symbolic link"
        raise _fail(path, where, f"leads outside the mapping's folder {how} ({fix})")
    return resolved


def _check_source(path: Path, table: str, source: Source) -> None:
    """The contract's side of a source: its columns, constants and category values."""
    where = f"sources.{table}"
    mappable = [c for c in RAW_TABLES[table] if c != LOADED_AT_COLUMN]
    for key, names in (("columns", source.columns), ("constants", source.constants)):
        for column in names:
            if column not in mappable:
                raise _fail(
                    path,
                    f"{where}.{key}.{column}",
                    f"not a column of raw.{table} ({did_you_mean(column, mappable)})",
                )
    for column, name in source.columns.items():
        if not name.strip():
            raise _fail(path, f"{where}.columns.{column}", f"empty ({FIXES['columns']})")
        if column in source.constants:
            raise _fail(
                path,
                f"{where}.constants.{column}",
                "also mapped under columns (keep one of the two)",
            )
    for column, value in source.constants.items():
        problem = _constant_problem(table, column, value)
        if problem:
            raise _fail(path, f"{where}.constants.{column}", problem)
    _check_values(path, table, source.values)
    money = [c for c in RAW_TABLES[table] if c in MONEY_COLUMNS]
    for key in ("amount_divisor", "currency"):
        if key in source.model_fields_set and not money:
            raise _fail(path, f"{where}.{key}", f"raw.{table} has no amounts (remove {key})")


def _constant_problem(table: str, column: str, value: object) -> str | None:
    """Why `value` cannot stand for every row's `column`, or None."""
    kind = RAW_TABLES[table][column]
    if column in ID_COLUMNS:
        return "an id cannot be a constant (map the export's column under columns)"
    if column == EVENT_TIME_COLUMN[table] or kind == "TIMESTAMP":
        return "an event time cannot be a constant (map the export's column under columns)"
    if value is None or isinstance(value, (bool, list, dict)):
        return f"must be a single value, got {_kind(value)} ({FIXES['constants']})"
    if kind in ("DOUBLE", "INTEGER"):
        number_ok = isinstance(value, (int, float)) and math.isfinite(value)
        if not number_ok or (kind == "INTEGER" and float(value) != int(value)):
            expected = "a whole number" if kind == "INTEGER" else "a finite number"
            return f"must be {expected}, got {value!r} (e.g. {column}: 1)"
    allowed = ACCEPTED_VALUES.get(table, {}).get(column)
    if allowed and str(value).lower() not in allowed:
        return f"{value!r} is not an accepted {column} ({did_you_mean(value, allowed)})"
    return None


def _check_values(path: Path, table: str, values: dict[str, dict[str, list[str]]]) -> None:
    """Contract values per category column, each export value under one of them."""
    categories = ACCEPTED_VALUES.get(table, {})
    for column, groups in values.items():
        where = f"sources.{table}.values.{column}"
        if column not in categories:
            fix = did_you_mean(column, categories) if categories else "it has none"
            raise _fail(path, where, f"not a category column of raw.{table} ({fix})")
        owner: dict[str, str] = {}
        for target, names in groups.items():
            if target not in categories[column]:
                raise _fail(
                    path,
                    f"{where}.{target}",
                    f"not an accepted {column} ({did_you_mean(target, categories[column])})",
                )
            for name in names:
                other = owner.setdefault(name.lower(), target)
                if other != target:
                    raise _fail(
                        path,
                        f"{where}.{target}",
                        f"{name!r} is also listed under {other} (an export value maps to one"
                        " contract value)",
                    )
