{# A dbt var as a SQL literal of the given type, or null when the var is unset. #}
{% macro var_literal(name, sql_type) -%}
    {%- set value = var(name) -%}
    {%- if value is none or value == '' -%}
        cast(null as {{ sql_type }})
    {%- else -%}
        cast('{{ value }}' as {{ sql_type }})
    {%- endif -%}
{%- endmacro %}
