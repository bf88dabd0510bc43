"""Ids are normalised by one expression, the same in the loader and in staging."""

from __future__ import annotations

import duckdb
import jinja2
import pytest

from warehouse.contract import REPO_ROOT
from warehouse.ids import normalized_id_sql

MACRO = REPO_ROOT / "dbt_project" / "macros" / "normalize_id.sql"


def test_the_staging_macro_renders_the_loaders_expression():
    module = jinja2.Environment().from_string(MACRO.read_text()).module
    assert module.normalize_id("customer_id").strip() == normalized_id_sql("customer_id")


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
