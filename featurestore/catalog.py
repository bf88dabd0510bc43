"""The feature catalog of marts.customer_snapshots, read and checked in Python.

The catalog is plain YAML inside the dbt macro `feature_catalog`
(dbt_project/macros/feature_catalog.sql), between two marker lines, so that
the dbt models (and their unit tests, which see macros but not the project's
YAML) and Python read the same text. This module parses it into pydantic
models, fills in the defaults the dbt macros also apply (macro
catalog_column), and checks what a typo would otherwise turn into wrong SQL.
"""

from __future__ import annotations

import contextlib
import hashlib
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

REPO = Path(__file__).resolve().parents[1]
CATALOG_MACRO = REPO / "dbt_project" / "macros" / "feature_catalog.sql"
# The catalog is the text of this Jinja set block (plain YAML, no Jinja).
BLOCK_START, BLOCK_END = "{% set catalog_yaml %}", "{% endset %}"

ADDITIVE = ("count", "sum", "count_distinct_days")
EXTREMES = ("min", "max", "latest")
Window = int | Literal["lifetime"]


class CatalogError(Exception):
    """The catalog cannot be read or is inconsistent (one line naming the entry)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EventSource(_Strict):
    model: str
    event_time: str


class Measure(_Strict):
    source: str
    aggregate: Literal["count", "sum", "count_distinct_days", "min", "max", "latest"]
    expression: str | None = None
    where: str | None = None
    unit: Literal["money"] | None = None
    type: str | None = None
    windows: tuple[int, ...] = ()

    @property
    def additive(self) -> bool:
        return self.aggregate in ADDITIVE

    @model_validator(mode="after")
    def _consistent(self) -> Measure:
        needs_expression = self.aggregate in ("sum", *EXTREMES)
        if needs_expression != (self.expression is not None):
            raise ValueError(
                f"aggregate {self.aggregate} {'needs' if needs_expression else 'takes no'}"
                " expression"
            )
        if not self.additive and (self.windows or self.unit):
            raise ValueError(f"{self.aggregate} is lifetime only: no windows or unit")
        if self.additive and self.type:
            raise ValueError("the type of a count or sum follows from it: no type")
        if not self.additive and not self.type:
            raise ValueError(f"{self.aggregate} needs the output type (type: date, ...)")
        if self.unit and self.aggregate != "sum":
            raise ValueError("unit money applies to sums only")
        if any(days <= 0 for days in self.windows):
            raise ValueError("windows are positive numbers of days")
        return self


class Column(_Strict):
    name: str
    role: Literal["id", "time", "feature", "label", "metadata"] = "feature"
    kind: Literal["numeric", "categorical"] | None = None
    type: str | None = None
    measure: str | None = None
    window: Window | None = None
    description: str | None = None
    doc: str | None = None
    tests: tuple[str | dict, ...] | None = None

    @model_validator(mode="after")
    def _described(self) -> Column:
        if (self.description is None) == (self.doc is None):
            raise ValueError("needs exactly one of description or doc")
        if self.window is not None and not self.measure:
            raise ValueError("a window needs a measure")
        if isinstance(self.window, int) and self.window <= 0:
            raise ValueError("a window is a positive number of days")
        return self


class ModelSpec(_Strict):
    description: str
    tests: tuple[dict, ...] = ()


class Catalog(_Strict):
    event_sources: dict[str, EventSource]
    measures: dict[str, Measure]
    model: ModelSpec
    columns: tuple[Column, ...] = Field(min_length=1)

    def windows_of(self, name: str) -> list[int]:
        """The windows a measure's totals are computed for (macro catalog_windows_of)."""
        windows = set(self.measures[name].windows)
        windows |= {
            c.window for c in self.columns if c.measure == name and isinstance(c.window, int)
        }
        return sorted(windows)

    def windows(self) -> list[int]:
        """Every window of the catalog: the placements the buckets carry."""
        found = {
            days
            for name, m in self.measures.items()
            if m.additive
            for days in self.windows_of(name)
        }
        return sorted(found)

    def bucket_column(self, name: str) -> str:
        """An additive measure's column in the buckets (money in cents: <name>_cents)."""
        return f"{name}_cents" if self.measures[name].unit else name

    def filled(self, column: Column) -> Column:
        """The column with its defaults, as the dbt macro catalog_column fills them."""
        updates: dict[str, object] = {}
        if column.role in ("feature", "label") and column.kind is None:
            updates["kind"] = "numeric"
        if column.measure:
            measure = self.measures[column.measure]
            if measure.additive:
                updates["window"] = column.window or "lifetime"
                updates["type"] = column.type or ("double" if measure.unit else "bigint")
                if column.tests is None:
                    updates["tests"] = ({"accepted_range": {"min_value": 0}},)
            else:
                updates["type"] = column.type or measure.type
        return column.model_copy(update=updates)

    def total_name(self, measure: str, window: Window | None) -> str:
        """<measure>_lifetime, <measure>_<w>d, or the measure's name for an extreme."""
        if not self.measures[measure].additive:
            return measure
        return f"{measure}_lifetime" if window in (None, "lifetime") else f"{measure}_{window}d"

    @model_validator(mode="after")
    def _references(self) -> Catalog:
        for name, measure in self.measures.items():
            if measure.source not in self.event_sources:
                raise ValueError(f"measure {name}: unknown source {measure.source!r}")
        names = [c.name for c in self.columns]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"columns listed twice: {', '.join(duplicated)}")
        for role in ("id", "time", "label"):
            found = [c.name for c in self.columns if c.role == role]
            if len(found) != 1:
                raise ValueError(f"needs exactly one column with role {role}, found {found}")
        for column in self.columns:
            if column.measure is None:
                if column.type is None:
                    raise ValueError(f"column {column.name}: needs a type")
                continue
            if column.measure not in self.measures:
                raise ValueError(f"column {column.name}: no measure named {column.measure!r}")
            measure = self.measures[column.measure]
            if not measure.additive and column.window is not None:
                raise ValueError(f"column {column.name}: {measure.aggregate} has no window")
            expected = self.total_name(column.measure, column.window)
            if column.name != expected:
                raise ValueError(
                    f"column {column.name}: a total of measure {column.measure} with window"
                    f" {column.window or 'lifetime'} is named {expected}"
                )
        return self


def catalog_text(path: Path = CATALOG_MACRO) -> str:
    """The catalog's YAML: the text of the macro's set block, exactly as dbt sees it."""
    try:
        text = path.read_text()
    except OSError as error:
        raise CatalogError(f"cannot read the feature catalog {path}: {error.strerror}") from None
    start, end = text.find(BLOCK_START), text.find(BLOCK_END)
    if start < 0 or end < start:
        raise CatalogError(f"{path}: no catalog between {BLOCK_START!r} and {BLOCK_END!r}")
    return text[start + len(BLOCK_START) : end]


def catalog_md5(path: Path = CATALOG_MACRO) -> str:
    """What the generated YAML records and dbt compares (macro catalog_check_generated_yaml,
    with dbt's local_md5)."""
    return hashlib.md5(catalog_text(path).encode()).hexdigest()


def read_catalog(path: Path = CATALOG_MACRO) -> Catalog:
    """Parse and check the catalog; a CatalogError names the first problem."""
    try:
        raw = yaml.safe_load(catalog_text(path))
    except yaml.YAMLError as error:
        raise CatalogError(f"{path}: not valid YAML: {str(error).splitlines()[0]}") from None
    try:
        return Catalog.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        message = first["msg"].removeprefix("Value error, ")
        where = _location(raw, first["loc"])
        raise CatalogError(f"{path}: {where + ': ' if where else ''}{message}") from None


def _location(raw: object, loc: tuple) -> str:
    """A pydantic error location, with a column's position replaced by its name."""
    parts = [str(part) for part in loc]
    if len(loc) > 1 and loc[0] == "columns" and isinstance(loc[1], int):
        with contextlib.suppress(KeyError, IndexError, TypeError):
            parts[1] = str(raw["columns"][loc[1]]["name"])
    return ".".join(parts)
