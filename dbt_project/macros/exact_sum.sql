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
