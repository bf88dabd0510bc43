{#
  A raw row's position in its table (DuckDB's rowid; raw tables are
  append-only, so the rows after a build's highest rowid are the new ones:
  docs/incremental.md). A macro so that unit tests, whose raw rows are
  literals without a rowid, can override it.
#}
{% macro raw_rowid() -%}
    rowid
{%- endmacro %}
