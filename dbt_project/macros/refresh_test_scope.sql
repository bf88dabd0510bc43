-- noqa: disable=all
-- (Jinja that runs queries at execution time: there is no SQL here for sqlfluff)
{#
  Data tests scoped to the rows a refresh changed (docs/incremental.md). A test
  whose `where` config holds the placeholder __refreshed_rows__ checks, in an
  incremental refresh, only the rows of a validated model that this run can
  have written: the new raw rows and every row sharing an id with one of them
  (their copies_loaded is recounted). The other rows are those of the previous
  complete build, which passed the same tests. In a full rebuild it checks
  every row. dbt's documented way: a custom get_where_subquery, which runs at
  execution time, when the plan is known.
#}
{% macro default__get_where_subquery(relation) -%}
    {% set where = config.get('where') or '' %}
    {% if '__refreshed_rows__' in where %}
        {% set where = where | replace('__refreshed_rows__', refreshed_rows_filter(relation)) %}
    {% endif %}
    {% if where %}
        {% do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') %}
    {% endif %}
    {% do return(relation) %}
{%- endmacro %}

{# The rows of a validated model (int_<raw table>_validated) this run can have
   written; every row outside an incremental refresh. #}
{% macro refreshed_rows_filter(relation) %}
    {% set tables = [] %}
    {% for raw in refresh_raw_tables() if relation.identifier == 'int_' ~ raw.name ~ '_validated' %}
        {% do tables.append(raw) %}
    {% endfor %}
    {% if not tables %}
        {% do exceptions.raise_compiler_error('__refreshed_rows__ scopes tests of the validated'
            ~ ' models (int_<raw table>_validated) only, not ' ~ relation.identifier) %}
    {% endif %}
    {% if not execute or refresh_plan().mode != 'incremental' %}{{ return('true') }}{% endif %}
    {% set table = tables[0] %}
    {% set mark = refresh_high_water_mark(table.name) %}
    {{ return('(raw_rowid > ' ~ mark ~ ' or ' ~ table.id ~ ' in (select ' ~ table.id
        ~ ' from ' ~ relation ~ ' where raw_rowid > ' ~ mark ~ '))') }}
{% endmacro %}
