{#
  Fail the build with a message naming the table and the missing columns when a
  raw table lacks a column of the raw contract (the source's columns in
  _shop__sources.yml), e.g. because a shop's export was mapped wrongly. Runs
  when the model executes, before any SQL touches the table. Skipped in dbt
  unit tests, where the source is a fixture CTE, not a table.
#}
{% macro require_contract_columns(table) %}
    {% set relation = source('shop', table) %}
    {% if execute and not relation.identifier.startswith('__dbt__cte__') %}
        {% set contract = graph.sources['source.' ~ project_name ~ '.shop.' ~ table].columns.keys() | list %}
        {% set present = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list %}
        {% if present | length == 0 %}
            {{ exceptions.raise_compiler_error("raw table " ~ relation.schema ~ "." ~ relation.identifier ~ " does not exist or has no columns; load it (or create it empty) first") }}
        {% endif %}
        {% set missing = [] %}
        {% for column in contract %}
            {% if column | lower not in present %}{% do missing.append(column) %}{% endif %}
        {% endfor %}
        {% if missing %}
            {{ exceptions.raise_compiler_error("raw table " ~ relation.schema ~ "." ~ relation.identifier ~ " is missing required column(s): " ~ missing | join(", ")) }}
        {% endif %}
    {% endif %}
{% endmacro %}

{# The accepted values of a raw category column (var accepted_values), as a SQL list. #}
{% macro accepted_values_sql(table, column) -%}
    {%- set accepted = var('accepted_values') -%}
    {%- set values = accepted.get(table, {}).get(column) if accepted is mapping else none -%}
    {%- if not is_list_of_names(values, '[a-z0-9_]+') -%}
        {{ exceptions.raise_compiler_error('var accepted_values.' ~ table ~ '.' ~ column ~ ': '
            ~ (values if values is not none else 'missing') ~ ' is not a list of lower-case values'
            ~ ' (letters, digits, _); staging checks ' ~ table ~ '.' ~ column ~ ' against it'
            ~ ' (set it in dbt_project.yml vars or --vars)') }}
    {%- endif -%}
    ({% for value in values -%}
        '{{ value }}'{% if not loop.last %}, {% endif %}
    {%- endfor %})
{%- endmacro %}
