{#
  The date from which a row may be used by a snapshot: a snapshot at as_of (a
  midnight) may use a row only if it happened before as_of and was loaded before
  as_of, i.e. iff known_date < as_of.
#}
{% macro known_date(event_time_column, loaded_time_column='loaded_at') -%}
    cast(greatest({{ event_time_column }}, {{ loaded_time_column }}) as date)
{%- endmacro %}
