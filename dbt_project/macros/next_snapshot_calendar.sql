{#
  For every day from the first daily row to the last as_of: the first snapshot
  strictly after it (`next_snapshot_index`). "Which snapshot first sees a row
  known on day d" and "from which snapshot has a row of day d left a w-day
  window" (the first snapshot after d + w) then become equality lookups in a
  table of a few hundred rows: much cheaper over tens of millions of daily rows
  than an as-of or a range join. Days on or after the last as_of have no row.
#}
{% macro next_snapshot_calendar(daily, spine) %}
    select
        cast(series.day as date) as day,
        {{ spine }}.snapshot_index as next_snapshot_index
    from (
        select
            (select min(activity_date) from {{ daily }}) as first_day,
            max(as_of) as last_as_of
        from {{ spine }}
    ) as bounds
    cross join
        generate_series(
            cast(coalesce(least(bounds.first_day, bounds.last_as_of), bounds.last_as_of) as timestamp),
            cast(bounds.last_as_of as timestamp),
            interval 1 day
        ) as series (day)
    asof inner join {{ spine }} on cast(series.day as date) < {{ spine }}.as_of
{% endmacro %}
