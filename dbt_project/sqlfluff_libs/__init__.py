"""Stand-ins for dbt's Jinja context, for sqlfluff's jinja templater only.

sqlfluff lints the project without running dbt. As a package, these names are
put straight into the templating context (the `dbt` module keeps the
cross-database macros under `dbt.`), so the models render with the real vars
of dbt_project.yml and the real feature catalog, and lint sees the SQL dbt runs.
"""

import datetime
import hashlib
import re
from pathlib import Path
from types import SimpleNamespace

import jinja2
import yaml

_PROJECT = Path(__file__).resolve().parents[2] / "dbt_project.yml"

# Only the parse-time branch of macros that inspect the warehouse or the graph.
execute = False
# The Python modules dbt exposes to Jinja that the macros use.
modules = SimpleNamespace(re=re, datetime=datetime)


def var(name, default=None):
    return yaml.safe_load(_PROJECT.read_text())["vars"].get(name, default)


def fromyaml(text):
    return yaml.safe_load(text)


def local_md5(text):
    return hashlib.md5(text.encode()).hexdigest()


class _NoRows:
    """What run_query returns here: no rows (queries run only under dbt)."""

    rows: list = []


def run_query(sql):
    return _NoRows()


# The engine lint renders for: DuckDB's SQL (the default__ macros).
target = SimpleNamespace(type="duckdb", name="dev", schema="main", database="warehouse")


class _Adapter:
    """adapter.dispatch as dbt resolves it on DuckDB: the macro's default__ version."""

    @jinja2.pass_context
    def dispatch(self, context, name, macro_namespace=None):
        return context[f"default__{name}"]


adapter = _Adapter()
