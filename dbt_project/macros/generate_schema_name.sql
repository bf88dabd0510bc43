{# Use the configured schema name as is (staging, intermediate, marts) rather than
   prefixing it with the target schema, so analysts query marts.<table>. #}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name if custom_schema_name is not none else target.schema }}
{%- endmacro %}
