{#
  Fail the build with a message naming the table and the missing columns when a
  raw table lacks a column the staging model needs (e.g. a shop's export was
  mapped wrongly). Runs when the model executes, before any SQL touches the table.
  Skipped in dbt unit tests, where the source is a fixture CTE, not a table.
#}
{% macro require_columns(relation, required_columns) %}
    {% if execute and not relation.identifier.startswith('__dbt__cte__') %}
        {% set present = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list %}
        {% if present | length == 0 %}
            {{ exceptions.raise_compiler_error("raw table " ~ relation.schema ~ "." ~ relation.identifier ~ " does not exist or has no columns; load it (or create it empty) first") }}
        {% endif %}
        {% set missing = [] %}
        {% for column in required_columns %}
            {% if column | lower not in present %}{% do missing.append(column) %}{% endif %}
        {% endfor %}
        {% if missing %}
            {{ exceptions.raise_compiler_error("raw table " ~ relation.schema ~ "." ~ relation.identifier ~ " is missing required column(s): " ~ missing | join(", ")) }}
        {% endif %}
    {% endif %}
{% endmacro %}
