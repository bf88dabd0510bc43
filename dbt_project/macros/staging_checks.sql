{#
  Defensive typing and the row checks every event source shares. Staging reads
  raw values with try_cast, so that no value in a raw table can fail a build:
  a value that does not parse becomes NULL and the row is quarantined
  (missing_value, missing_timestamp), and a number that is not finite or too
  large for its type gets its own reason instead of breaking a cast.
#}

{# A raw number as a double for the checks (NULL when it does not parse). #}
{% macro as_double(column) -%}
    try_cast({{ column }} as double)
{%- endmacro %}

{# The checked double as money or a count; NULL where it cannot be represented
   (non-finite, or beyond the type), which the checks reject anyway. #}
{% macro as_amount(column) -%}
    case when {{ is_finite(column) }} and abs({{ column }}) < 1e16 then cast({{ column }} as decimal(18, 2)) end
{%- endmacro %}

{% macro as_count(column) -%}
    case when {{ is_finite(column) }} and abs({{ column }}) < 2147483648 then cast({{ column }} as integer) end
{%- endmacro %}

{# The first checks of every event row, in the order that names it: its id,
   its customer id, its timestamps (present, after the shop's epoch, and an
   event not after its load). `when` branches of the row's reject CASE. #}
{% macro event_row_checks(id_column, time_column) %}
    when {{ id_column }} is null then 'missing_event_id'
    when
        length({{ id_column }}) > {{ var('max_id_length') }}
        or length(customer_id) > {{ var('max_id_length') }}
        then 'invalid_id'
    when customer_id is null then 'missing_customer_id'
    when {{ time_column }} is null or loaded_at is null then 'missing_timestamp'
    when
        {{ time_column }} < {{ var_literal('earliest_event_date', 'timestamp') }}
        or loaded_at < {{ var_literal('earliest_event_date', 'timestamp') }}
        then 'timestamp_out_of_range'
    when {{ time_column }} > loaded_at then 'future_timestamp'
{% endmacro %}

{# Numbers of a row: all present, all finite, none negative. `when` branches. #}
{% macro number_checks(columns) %}
    when {{ columns | join(' is null or ') }} is null then 'missing_value'
    when not ({{ all_finite(columns) }}) then 'non_finite_value'
    when {{ columns | join(' < 0 or ') }} < 0 then 'negative_value'
{% endmacro %}
