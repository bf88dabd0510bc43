{#
  Sum of integer values (counts, seconds, points, money in cents) in a double
  accumulator. Exact while every partial sum stays below 2^53 (9e15), so the
  result does not depend on the order DuckDB's threads add rows in. DuckDB
  sums integers in 128 bits, which made the snapshot aggregations about twice
  as slow (window changes at 1M customers: 24.1 s vs 13.8 s).
#}
{% macro exact_sum(expression) -%}
    sum(cast({{ expression }} as double))
{%- endmacro %}

{# A total of exact_sum as its feature value: money from cents (measures named
   *_cents) to a double amount, counts to bigint. #}
{% macro from_exact_sum(total, measure) -%}
    {%- if measure.endswith('_cents') -%}
        ({{ total }}) / 100
    {%- else -%}
        cast({{ total }} as bigint)
    {%- endif -%}
{%- endmacro %}
