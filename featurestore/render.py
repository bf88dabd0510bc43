"""What the feature catalog writes: the mart's dbt YAML and the docs' column table.

dbt needs every column of a contracted model in its YAML, so
customer_snapshots.yml is generated from the catalog rather than kept by
hand; the docs' column table likewise, so that a generated column name can
be looked up with the entry that makes it.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from featurestore.catalog import CATALOG_MACRO, REPO, Catalog, Column, catalog_md5, read_catalog

# The files written from the catalog, relative to the repository root.
MODEL_YAML = Path("dbt_project/models/marts/customer_snapshots.yml")
INTERMEDIATE_YAML = Path("dbt_project/models/intermediate/_feature_catalog__models.yml")
DOCS = Path("docs/feature_store.md")
DOCS_BEGIN = "<!-- catalog columns: begin (make catalog writes this table) -->"
DOCS_END = "<!-- catalog columns: end -->"
HEADER = """\
# GENERATED from the feature catalog (dbt_project/macros/feature_catalog.sql) by
# `make catalog` (also run by `make test`): edit the catalog, not this file. dbt
# stops with that instruction when they disagree (macro catalog_check_generated_yaml).
"""


class _Flow(dict):
    """A mapping written on one line: {role: feature, kind: numeric}."""


class _Dumper(yaml.SafeDumper):
    """Block lists indented under their key, as in the project's other YAML."""

    def increase_indent(self, flow: bool = False, indentless: bool = False):
        return super().increase_indent(flow, False)


def _flow(dumper: yaml.SafeDumper, data: _Flow):
    return dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True)


def _text(dumper: yaml.SafeDumper, data: str):
    """Long text folded over lines; "{{ doc('x') }}" in double quotes."""
    if len(data) > 80 and "\n" not in data:
        style = ">"
    elif data.startswith("{{"):
        style = '"'
    else:
        style = None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(_Flow, _flow)
_Dumper.add_representer(str, _text)


def measure_text(catalog: Catalog, name: str) -> str:
    """What a measure counts or sums, in words."""
    measure = catalog.measures[name]
    what = {
        "count": f"count of {measure.source}",
        "count_distinct_days": f"distinct days with {measure.source}",
        "sum": f"sum of {measure.expression}"
        + (" (money)" if measure.unit else "")
        + f" over {measure.source}",
        "min": f"earliest {measure.expression} over {measure.source}",
        "max": f"latest {measure.expression} over {measure.source}",
        "latest": f"{measure.expression} of the latest of {measure.source}",
    }[measure.aggregate]
    return what + (f" where {measure.where}" if measure.where else "")


def span(window: object) -> str:
    return "lifetime" if window in (None, "lifetime") else f"{window}-day window"


def recipe(catalog: Catalog, column: Column) -> str:
    """The catalog entry behind a measure total, in words."""
    return (
        f"measure {column.measure} ({measure_text(catalog, column.measure)}), {span(column.window)}"
    )


def _test(spec: str | dict) -> str | dict:
    """A catalog test in dbt 1.11's form: arguments under `arguments`."""
    if isinstance(spec, str):
        return spec
    (name, arguments), *_ = spec.items()
    return {name: {"arguments": _Flow(arguments) if len(str(arguments)) < 60 else arguments}}


def nesting_tests(catalog: Catalog) -> list[dict]:
    """A measure's mart totals are nested: shorter windows never exceed longer ones
    or the lifetime total (measures are counts or sums of non-negative values)."""
    tests = []
    for name, measure in catalog.measures.items():
        if not measure.additive:
            continue
        columns = [catalog.filled(c) for c in catalog.columns if c.measure == name]
        ordered = sorted(columns, key=lambda c: c.window if c.window != "lifetime" else 10**9)
        if len(ordered) < 2:
            continue
        pairs = zip(ordered, ordered[1:], strict=False)
        expression = " and ".join(f"{a.name} <= {b.name}" for a, b in pairs)
        tests.append({"expression_is_true": {"expression": expression}})
    return tests


def column_entry(catalog: Catalog, column: Column) -> dict:
    filled = catalog.filled(column)
    if filled.doc:
        description = "{{ doc('" + filled.doc + "') }}"
    else:
        description = " ".join(filled.description.split())
    if filled.measure:
        description += f" Catalog: {recipe(catalog, filled)}."
    meta = _Flow(role=filled.role)
    for key in ("kind", "measure", "window"):
        if getattr(filled, key) is not None:
            meta[key] = getattr(filled, key)
    entry = {
        "name": filled.name,
        "description": description,
        "data_type": filled.type,
        "config": {"meta": meta},
    }
    if filled.tests:
        entry["data_tests"] = [_test(t) for t in filled.tests]
    return entry


def _dump(models: list[dict]) -> str:
    body = yaml.dump(
        {"version": 2, "models": models},
        Dumper=_Dumper,
        sort_keys=False,
        width=84,
        allow_unicode=True,
    )
    return HEADER + body.replace("\nmodels:", "\n\nmodels:", 1)


def model_yaml(catalog: Catalog, md5: str) -> str:
    model = {
        "name": "customer_snapshots",
        "description": " ".join(catalog.model.description.split()),
        "config": {"contract": {"enforced": True}, "meta": {"catalog_md5": md5}},
        "data_tests": [_test(t) for t in (*catalog.model.tests, *nesting_tests(catalog))],
        "columns": [column_entry(catalog, c) for c in catalog.columns],
    }
    return _dump([model])


def _described(name: str, description: str, tests: list | None = None) -> dict:
    entry = {"name": name, "description": description}
    if tests:
        entry["data_tests"] = tests
    return entry


def bucket_columns(catalog: Catalog) -> list[dict]:
    """The columns of int_customer_activity_buckets, in the order its SQL makes them."""
    windows = catalog.windows()
    columns = [
        _described("customer_key", "{{ doc('customer_key') }}", ["not_null"]),
        _described(
            "event_source",
            "The source the row aggregates (<source>.<measure> for a count of distinct days).",
        ),
        _described(
            "seen_index",
            "The first snapshot that may use these events: the first whose as_of is after"
            " their known date (the date of the later of event and load time).",
            ["not_null"],
        ),
    ]
    columns += [
        _described(
            f"out_{days}_index",
            f"The first snapshot whose {days}-day window no longer covers these events"
            f" (the first as_of after activity date + {days} days); null when no snapshot"
            " is that late.",
        )
        for days in windows
    ]
    for source in catalog.event_sources:
        for name, measure in catalog.measures.items():
            if measure.source != source or measure.aggregate == "count_distinct_days":
                continue
            text = f"Measure {name}: {measure_text(catalog, name)}, over the bucket's events"
            if measure.unit:
                text += ", in integer cents (so sums are exact)"
            columns.append(_described(catalog.bucket_column(name), text + "."))
            if measure.aggregate == "latest":
                text = f"Event time of the bucket's latest {source} row."
                columns.append(_described(f"{name}_at", text))
    for name, measure in catalog.measures.items():
        if measure.aggregate == "count_distinct_days":
            text = f"Measure {name}: {measure_text(catalog, name)} in the bucket."
            columns.append(_described(name, text))
    return columns


def total_columns(catalog: Catalog) -> list[dict]:
    """The columns of int_customer_totals_by_snapshot, in the order its SQL makes them."""
    columns = [
        _described("customer_key", "{{ doc('customer_key') }}"),
        _described("snapshot_index", "{{ doc('snapshot_index') }}"),
        _described("as_of", "{{ doc('as_of') }}"),
    ]
    for name, measure in catalog.measures.items():
        if not measure.additive:
            continue
        for window in ("lifetime", *catalog.windows_of(name)):
            known = (
                "known before as_of"
                if window == "lifetime"
                else f"in the {window} days before as_of"
            )
            text = f"Measure {name} ({measure_text(catalog, name)}), {known}."
            columns.append(_described(catalog.total_name(name, window), text))
    for name, measure in catalog.measures.items():
        if not measure.additive:
            text = f"Measure {name} ({measure_text(catalog, name)}), over all known before as_of."
            columns.append(_described(name, text))
    return columns


def intermediate_yaml(catalog: Catalog, md5: str) -> str:
    windows = catalog.windows()
    nested = " and ".join(
        f"coalesce(out_{a}_index <= out_{b}_index, out_{b}_index is null)"
        for a, b in zip(windows, windows[1:], strict=False)
    )
    bucket_tests = [
        {
            "unique_combination": {
                "arguments": {
                    "combination": [
                        "customer_key",
                        "event_source",
                        "seen_index",
                        *(f"out_{days}_index" for days in windows),
                    ]
                }
            }
        }
    ]
    if nested:
        # A shorter window is left no later than a longer one (null: not before the last as_of).
        bucket_tests.append({"expression_is_true": {"arguments": {"expression": nested}}})
    buckets = {
        "name": "int_customer_activity_buckets",
        "description": (
            "Valid events of every source aggregated per customer, source and place on the"
            " axis of the snapshots this run computes, int_snapshots_to_build (the snapshot"
            " that first sees them and, per feature window, the first snapshot whose window"
            " no longer covers them): one column per measure of the feature catalog. Each"
            " source aggregated on its own, then stacked."
        ),
        "config": {"meta": {"catalog_md5": md5}},
        "data_tests": bucket_tests,
        "columns": bucket_columns(catalog),
    }
    totals = {
        "name": "int_customer_totals_by_snapshot",
        "description": (
            "Point-in-time totals of every measure of the feature catalog per customer at"
            " every snapshot this run computes (int_snapshots_to_build) from the first one that"
            " sees any of their activity: running sums"
            " over the snapshot index of what each snapshot first sees, minus, for the"
            " windows, what has left the window; running extremes under the measure's name."
        ),
        "config": {"meta": {"catalog_md5": md5}},
        "data_tests": [
            {
                "unique_combination": {
                    "arguments": {"combination": ["customer_key", "snapshot_index"]}
                }
            }
        ],
        "columns": total_columns(catalog),
    }
    return _dump([buckets, totals])


def docs_table(catalog: Catalog) -> str:
    """Every mart column, its type and kind, and the catalog entry that makes it."""
    rows = [
        "| column | type | role / kind | made by |",
        "| --- | --- | --- | --- |",
    ]
    for column in catalog.columns:
        filled = catalog.filled(column)
        role = filled.role + (f" / {filled.kind}" if filled.kind else "")
        made_by = (
            recipe(catalog, filled) if filled.measure else "written out in customer_snapshots.sql"
        )
        rows.append(f"| `{filled.name}` | {filled.type} | {role} | {made_by} |")
    return "\n".join(rows)


def docs_with_table(text: str, table: str) -> str:
    start, end = text.index(DOCS_BEGIN) + len(DOCS_BEGIN), text.index(DOCS_END)
    return text[:start] + "\n" + table + "\n" + text[end:]


def outputs(root: Path = REPO) -> dict[Path, str]:
    """Each file written from the catalog of the project at `root`, and its content."""
    path = root / CATALOG_MACRO.relative_to(REPO)
    catalog, md5 = read_catalog(path), catalog_md5(path)
    return {
        root / MODEL_YAML: model_yaml(catalog, md5),
        root / INTERMEDIATE_YAML: intermediate_yaml(catalog, md5),
        root / DOCS: docs_with_table((root / DOCS).read_text(), docs_table(catalog)),
    }
