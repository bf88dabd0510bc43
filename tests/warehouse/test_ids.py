"""Ids are normalised by one expression, the same in the loader and in staging."""

from __future__ import annotations

import duckdb
import jinja2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from warehouse.contract import REPO_ROOT
from warehouse.ids import normalize_id, normalized_id_sql

MACRO = REPO_ROOT / "dbt_project" / "macros" / "normalize_id.sql"


def test_the_staging_macro_renders_the_loaders_expression():
    module = jinja2.Environment().from_string(MACRO.read_text()).module
    assert module.default__normalize_id("customer_id").strip() == normalized_id_sql("customer_id")


@pytest.mark.parametrize(
    "variant",
    [
        "C000000042",
        " C000000042\t",
        "C000000042\u200b",  # zero-width space
        "\ufeffC000000042",  # byte order mark
        "\u00a0C000000042\u3000",  # no-break and ideographic spaces
        "\uff23\uff10\uff10\uff10\uff10\uff10\uff10\uff10\uff14\uff12",  # full-width
        "C0000\u200d00042\r\n",  # zero-width joiner, line break
    ],
)
def test_variants_of_one_id_become_the_same_id(variant):
    with duckdb.connect() as con:
        assert con.execute(f"select {normalized_id_sql('$1')}", [variant]).fetchone()[0] == (
            "C000000042"
        )


def test_composed_and_combining_accents_are_one_id_and_empty_ids_are_null():
    with duckdb.connect() as con:
        composed, combining, blank, emoji = con.execute(
            f"select {normalized_id_sql('$1')}, {normalized_id_sql('$2')},"
            f" {normalized_id_sql('$3')}, {normalized_id_sql('$4')}",
            ["Ren\u00e9", "Rene\u0301", "\u200b \t", "\U0001f600-7"],
        ).fetchone()
    assert composed == combining == "Ren\u00e9"
    assert blank is None and emoji == "\U0001f600-7"


# Characters each step acts on, mixed with plain ASCII: what a hostile export holds.
ID_TEXT = st.text(
    alphabet=st.sampled_from(
        list("Ab09 -_'\\\"%\t\r\n\x00\x7f\x85\xa0\u0301\u00e9\u1680\u2003\u200b\u200d\u2028")
        + list("\u202f\u205f\u2060\u3000\ufeff\uff21\uff10\uff3c\uff5e\U0001f600\u00c5\u212b")
    )
    | st.characters(),
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(values=st.lists(ID_TEXT, min_size=1, max_size=20))
def test_the_python_normalisation_spark_uses_equals_the_sql_one(values):
    with duckdb.connect() as con:
        con.execute("create table ids (v varchar)")
        con.executemany("insert into ids values (?)", [[v] for v in values])
        rows = con.execute(f"select {normalized_id_sql('v')} from ids order by rowid")
        expected = [row[0] for row in rows.fetchall()]
    assert [normalize_id(v) for v in values] == expected
