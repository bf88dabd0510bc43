{# A dbt var as a SQL literal of the given type, or null when the var is unset.
   Quotes are doubled, so no var can end its literal (validate_vars has also
   checked its form before any model runs). #}
{% macro var_literal(name, sql_type) -%}
    {%- set value = var(name) -%}
    {%- if value is none or value == '' -%}
        cast(null as {{ sql_type }})
    {%- else -%}
        cast('{{ value | string | replace("'", "''") }}' as {{ sql_type }})
    {%- endif -%}
{%- endmacro %}
