"""How each contract column is computed from an export's column: which file
column feeds it, and the SQL that types it (NULL where a value does not parse,
so that the row is loaded and staging quarantines it)."""

from __future__ import annotations

from loader.export import LoadError
from loader.mapping import ID_COLUMNS, MONEY_COLUMNS, OPTIONAL_COLUMNS, SourceMapping, did_you_mean
from loader.sql import as_text, identifier, literal
from warehouse.ids import normalized_id_sql

NUMERIC_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "FLOAT", "DOUBLE")
TIME_TYPES = ("TIMESTAMP", "DATE")
NESTED_TYPES = ("STRUCT", "MAP", "UNION")


def file_column(source: SourceMapping, column: str, name: str, file_types: dict[str, str]) -> str:
    """The file column `name` for `column`, as SQL; refused when absent or nested."""
    if name not in file_types:
        raise LoadError(
            f"{source.file}: no column {name!r} for {column} ({_column_hint(name, file_types)})"
        )
    kind = file_types[name]
    if kind.endswith("]") or kind.split("(")[0] in NESTED_TYPES:
        raise LoadError(
            f"{source.file}: column {name!r} ({column}) holds {kind.split('(')[0]} values,"
            " which cannot be loaded (export it as a plain text or number column)"
        )
    return identifier(name)


def _one_column_of_many(file_types: dict[str, str]) -> bool:
    """A header read as one column that holds a separator: the wrong csv.delimiter."""
    names = list(file_types)
    return len(names) == 1 and any(sep in names[0] for sep in ";,\t|")


def _column_hint(name: str, file_types: dict[str, str]) -> str:
    if _one_column_of_many(file_types):
        return "the header reads as one column: set csv.delimiter in the mapping"
    names = list(file_types)
    return did_you_mean(name, names, f"the file has {len(names)} other columns: check the mapping")


def source_expression(source: SourceMapping, column: str, file_types: dict[str, str]) -> str | None:
    """The export's raw value for a contract column, or None when it has none."""
    if column in source.columns:
        return file_column(source, column, source.columns[column], file_types)
    if column in source.constants:
        return literal(source.constants[column])
    if column in file_types:
        return file_column(source, column, column, file_types)
    if column in OPTIONAL_COLUMNS:
        return None
    fix = (
        f"name the file's column under sources.{source.table}.columns, or give a value under"
        " constants"
    )
    if _one_column_of_many(file_types):
        fix = _column_hint(column, file_types)
    raise LoadError(
        f"{source.file}: missing required column {column} of raw.{source.table} ({fix})"
    )


def file_type(source: SourceMapping, column: str, file_types: dict[str, str]) -> str:
    """The file's type of the column feeding `column` (VARCHAR for a constant)."""
    name = source.columns.get(column, column)
    return "VARCHAR" if column in source.constants else file_types.get(name, "VARCHAR")


def typed_expression(
    source: SourceMapping,
    column: str,
    kind: str,
    value: str,
    from_type: str = "VARCHAR",
    convert_currency: bool = True,
) -> str:
    """SQL turning the export's value into the contract type; NULL where it does not parse."""
    if column in ID_COLUMNS:
        return normalized_id_sql(value)
    if kind == "TIMESTAMP":
        return _timestamp(source, value, from_type)
    if kind in ("DOUBLE", "INTEGER"):
        number = _number(source, value, from_type)
        if column in MONEY_COLUMNS:
            number = _money(source, number, convert_currency)
        return number if kind == "DOUBLE" else f"try_cast(round({number}) as integer)"
    return _category(source, column, as_text(value))


def _timestamp(source: SourceMapping, value: str, from_type: str) -> str:
    """Naive values are read in the mapping's time zone (the session's), stored as UTC;
    an infinite timestamp ('infinity') is no time at all."""
    if from_type.startswith(TIME_TYPES):
        parsed = f"try_cast({value} as timestamptz)"
    elif source.timestamp_format and from_type == "VARCHAR":
        parsed = f"try_strptime({as_text(value)}, {literal(source.timestamp_format)})"
        parsed = f"try_cast({parsed} as timestamptz)"
    else:
        parsed = f"try_cast({as_text(value)} as timestamptz)"
    utc = f"timezone('UTC', {parsed})"
    return f"nullif(nullif({utc}, 'infinity'::timestamp), '-infinity'::timestamp)"


def _number(source: SourceMapping, value: str, from_type: str) -> str:
    """A double: NaN, infinities and huge values kept as they are (staging names them)."""
    if from_type in NUMERIC_TYPES or from_type.startswith("DECIMAL"):
        return f"try_cast({value} as double)"
    text = as_text(value)
    if source.decimal_separator != ".":
        text = f"replace({text}, {literal(source.decimal_separator)}, '.')"
    return f"try_cast({text} as double)"


def _money(source: SourceMapping, number: str, convert_currency: bool) -> str:
    number = f"{number} / {literal(source.amount_divisor)}"
    if not (source.currency_column and convert_currency):
        return number
    rates = " ".join(
        f"when {literal(code)} then {literal(rate)}" for code, rate in source.currency_rates.items()
    )
    return f"{number} * (case {currency_code_sql(source)} {rates} end)"


def currency_code_sql(source: SourceMapping) -> str:
    return f"upper(trim(cast({identifier(source.currency_column)} as varchar)))"


def _category(source: SourceMapping, column: str, text: str) -> str:
    groups = source.values.get(column)
    if not groups:
        return text
    cases = " ".join(
        f"when {literal(original)} then {literal(target)}"
        for target, originals in groups.items()
        for original in originals
    )
    return f"case lower({text}) {cases} else {text} end"
