{# A dbt var as a SQL literal of the given type, or null when the var is unset.
   Quotes are doubled, so no var can end its literal (validate_vars has also
   checked its form before any model runs). #}
{% macro var_literal(name, sql_type) -%}
    {{ return(adapter.dispatch('var_literal', 'churn')(name, sql_type)) }}
{%- endmacro %}

{# Spark casts an impossible date (2025-02-30) to null instead of failing:
   fail with the var's name instead of quietly ignoring it. #}
{% macro spark__var_literal(name, sql_type) -%}
    {%- set value = var(name) -%}
    {%- if value is none or value == '' -%}
        cast(null as {{ sql_type }})
    {%- else -%}
        {%- set text = value | string | replace('\\', '\\\\') | replace("'", "\\'") -%}
        coalesce(cast('{{ text }}' as {{ sql_type }}), raise_error('var {{ name }}: {{ text }} is not a valid {{ sql_type }}'))
    {%- endif -%}
{%- endmacro %}

{% macro default__var_literal(name, sql_type) -%}
    {%- set value = var(name) -%}
    {%- if value is none or value == '' -%}
        cast(null as {{ sql_type }})
    {%- else -%}
        cast('{{ value | string | replace("'", "''") }}' as {{ sql_type }})
    {%- endif -%}
{%- endmacro %}
