"""What the loader notices in an export: a column that does not parse as a whole
is refused (LoadError); individual bad rows are loaded as they are and counted,
each note naming the reason staging quarantines them with
(`warehouse.contract.REJECT_REASONS`)."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from loader.columns import currency_code_sql, file_type, typed_expression
from loader.export import ROW_NUMBER, LoadError, where_in_file
from loader.mapping import ID_COLUMNS, MONEY_COLUMNS, SourceMapping
from loader.sql import as_text, identifier, literal
from warehouse.contract import ACCEPTED_VALUES, EVENT_TIME_COLUMN, ID_COLUMN, project_var
from warehouse.ids import normalized_id_sql

# A column is unparseable as a whole (wrong format or wrong column) when more
# than this share of its non-empty values fail; up to it, the failing rows are
# individual bad rows and go to the quarantine. Exactly half loads.
MAX_BAD_SHARE = 0.5
# Where staging quarantines a row whose value the loader could not parse.
REJECT_REASON_OF_TYPE = {
    "TIMESTAMP": "missing_timestamp",
    "DOUBLE": "missing_value",
    "INTEGER": "missing_value",
}
UNKNOWN_CATEGORY = "unknown_category"
# decimal(18, 2), staging's money type, holds less than this.
HUGE_AMOUNT = 1e16
MAX_ID_LENGTH = int(project_var("max_id_length"))
EARLIEST_EVENT_DATE = str(project_var("earliest_event_date"))


@dataclass(frozen=True)
class Note:
    """`count` rows `what` (no count: a remark on the whole file); `reason`: the
    reason staging quarantines them with (None: they are not)."""

    count: int | None
    what: str
    reason: str | None = None

    def __str__(self) -> str:
        text = self.what
        if self.count is not None:
            text = f"{self.count:,} row{'s' if self.count != 1 else ''} {self.what}"
        return f"{text}: quarantined as {self.reason}" if self.reason else text


def _a(word: str) -> str:
    return f"an {word}" if word[0] in "aeiou" else f"a {word}"


def _counted(con: duckdb.DuckDBPyConnection, sql: str) -> tuple:
    return con.execute(sql).fetchone()


def unparseable_notes(
    con: duckdb.DuckDBPyConnection,
    source: SourceMapping,
    contract: dict[str, str],
    raw_values: dict[str, str | None],
    file_types: dict[str, str],
) -> list[Note]:
    """A note per typed column with values that do not parse; LoadError when more
    than MAX_BAD_SHARE of a column fails (the wrong column or format, not bad rows)."""
    notes = []
    for column, kind in contract.items():
        value = raw_values[column]
        if value is None or column in source.constants or kind not in REJECT_REASON_OF_TYPE:
            continue
        # Parsed without the currency: a missing rate is counted on its own.
        from_type = file_type(source, column, file_types)
        parsed = typed_expression(source, column, kind, value, from_type, convert_currency=False)
        non_empty, failed, first = _counted(
            con,
            f"select count(shown), count(shown) filter (where parsed is null),"
            f" min({ROW_NUMBER}) filter (where shown is not null and parsed is null)"
            f" from (select {ROW_NUMBER}, {as_text(value)} as shown, {parsed} as parsed"
            " from export_file)",
        )
        if failed > MAX_BAD_SHARE * non_empty:
            name = source.columns.get(column, column)
            raise LoadError(
                f"{source.file}: column {name!r} ({column}): {failed:,} of {non_empty:,} values"
                f" are not {expected_format(source, kind, from_type)}, the first at"
                f" {where_in_file(source, first)}"
            )
        if failed:
            notes.append(Note(failed, f"with an unparseable {column}", REJECT_REASON_OF_TYPE[kind]))
    return notes


def expected_format(source: SourceMapping, kind: str, from_type: str) -> str:
    """What a value of this contract type must look like (and the fix), for an error."""
    if kind == "INTEGER":
        return "whole numbers within range"
    if kind == "DOUBLE":
        separator = source.decimal_separator
        return f"numbers (decimal separator {separator!r}: check csv.decimal_separator)"
    if from_type != "VARCHAR":
        return f"timestamps (the file holds {from_type}: export them as timestamps or ISO text)"
    if source.timestamp_format:
        return f"timestamps of format {source.timestamp_format!r} (check timestamp_format)"
    return "ISO 8601 timestamps (set timestamp_format, e.g. '%d/%m/%Y %H:%M')"


def category_notes(
    con: duckdb.DuckDBPyConnection, table: str, raw_values: dict[str, str | None]
) -> list[Note]:
    """A note per category column with values the contract does not accept."""
    notes = []
    for column, allowed in ACCEPTED_VALUES.get(table, {}).items():
        if raw_values[column] is None:
            continue
        outside, example = _counted(
            con,
            f"select count(*), any_value({column}) from prepared"
            f" where {column} is null or lower({column}) not in"
            f" ({', '.join(literal(v) for v in allowed)})",
        )
        if outside:
            shown = "empty" if example is None else f"e.g. {example[:40]!r}"
            notes.append(
                Note(
                    outside,
                    f"with {_a(column)} outside {', '.join(allowed)}"
                    f" ({shown}; map it under values)",
                    UNKNOWN_CATEGORY,
                )
            )
    return notes


def currency_notes(con: duckdb.DuckDBPyConnection, source: SourceMapping) -> list[Note]:
    """A note when rows are in a currency the mapping has no rate for."""
    if not source.currency_column:
        return []
    codes = ", ".join(literal(c) for c in source.currency_rates)
    (unknown,) = _counted(
        con,
        f"select count(*) from (select {currency_code_sql(source)} as code from export_file)"
        f" where code not in ({codes}) or code is null",
    )
    if not unknown:
        return []
    return [Note(unknown, "in a currency without a rate (amounts left empty)", "missing_value")]


def amount_notes(
    con: duckdb.DuckDBPyConnection, table: str, contract: dict[str, str]
) -> list[Note]:
    """Amounts kept as they are but that staging cannot hold: NaN and infinities
    ('1e309' overflows to infinity), and magnitudes beyond its decimal type."""
    notes = []
    for column in (c for c in contract if c in MONEY_COLUMNS):
        c = identifier(column)
        non_finite, huge, huge_negative = _counted(
            con,
            f"select count(*) filter (where not isfinite({c})),"
            f" count(*) filter (where isfinite({c}) and {c} >= {HUGE_AMOUNT}),"
            f" count(*) filter (where isfinite({c}) and {c} <= -{HUGE_AMOUNT}) from prepared",
        )
        problems = [
            (non_finite, f"with a non-finite {column} (NaN or infinity)", "non_finite_value"),
            (huge, f"with {_a(column)} of {HUGE_AMOUNT:.0e} or more", "absurd_value"),
            (huge_negative, f"with {_a(column)} of -{HUGE_AMOUNT:.0e} or less", "negative_value"),
        ]
        notes += [Note(n, what, reason) for n, what, reason in problems if n]
    return notes


def id_notes(
    con: duckdb.DuckDBPyConnection,
    source: SourceMapping,
    contract: dict[str, str],
    raw_values: dict[str, str | None],
) -> list[Note]:
    """Ids missing or too long (for the ids staging checks), or changed by normalisation."""
    checked = {ID_COLUMN[source.table]: "missing_event_id", "customer_id": "missing_customer_id"}
    notes = []
    for column in (c for c in contract if c in ID_COLUMNS and raw_values[c] is not None):
        raw = raw_values[column]
        missing, long, normalised = _counted(
            con,
            f"select count(*) filter (where id is null), count(*) filter (where length(id) >"
            f" {MAX_ID_LENGTH}), count(*) filter (where id <> cast(raw as varchar))"
            f" from (select {raw} as raw, {normalized_id_sql(raw)} as id from export_file)",
        )
        problems = [
            (
                normalised,
                f"with {_a(column)} normalised (zero-width, control or full-width characters,"
                " Unicode or surrounding spaces)",
                None,
            )
        ]
        if column in checked:
            problems += [
                (missing, f"without {column}", checked[column]),
                (long, f"with {_a(column)} longer than {MAX_ID_LENGTH} characters", "invalid_id"),
            ]
        notes += [Note(n, what, reason) for n, what, reason in problems if n]
    return notes


def time_notes(con: duckdb.DuckDBPyConnection, table: str, stamp: str) -> list[Note]:
    """Event times staging rejects: before the shop's epoch, or after they were known."""
    event = EVENT_TIME_COLUMN[table]
    early, future = _counted(
        con,
        f"select count(*) filter (where {event} < {literal(EARLIEST_EVENT_DATE)}::timestamp),"
        f" count(*) filter (where {event} > {stamp}) from prepared",
    )
    problems = [
        (early, f"dated before {EARLIEST_EVENT_DATE}", "timestamp_out_of_range"),
        (future, "dated after their _loaded_at (the future)", "future_timestamp"),
    ]
    return [Note(n, what, reason) for n, what, reason in problems if n]
