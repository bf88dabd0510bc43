{#
  A raw row's position in its table (DuckDB's rowid; raw tables are
  append-only, so the rows after a build's highest rowid are the new ones:
  docs/incremental.md). A macro so that unit tests, whose raw rows are
  literals without a rowid, can override it.
#}
{% macro raw_rowid() -%}
    {{ return(adapter.dispatch('raw_rowid', 'churn')()) }}
{%- endmacro %}

{% macro default__raw_rowid() -%}
    rowid
{%- endmacro %}

{# Spark tables have no rowid: the raw Parquet carries the DuckDB row's
   (warehouse.spark.export_raw). #}
{% macro spark__raw_rowid() -%}
    _raw_rowid
{%- endmacro %}
