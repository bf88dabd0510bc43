{#
  Place events on the snapshot axis, for aggregation per customer and place:
  - seen_index: the first snapshot that may use them, the calendar lookup of
    their known date;
  - out_<w>_index, for each feature window w (of `windows`, the catalog's): the
    first snapshot whose w-day window no longer covers them, the lookup of
    activity date + w days (null when that is on or after the last as_of).
  Every day before the calendar's first day has the same indices as that day,
  so lookups clamp to it. The columns macro ends with a comma (the measures
  follow it); the joins follow the events in the from clause.
#}
{% macro snapshot_place_columns(windows) %}
    seen.next_snapshot_index as seen_index,
    {% for days in windows %}
        out_{{ days }}.next_snapshot_index as out_{{ days }}_index,
    {% endfor %}
{% endmacro %}

{% macro snapshot_place_joins(events, event_time_column, calendar, windows) %}
    cross join (select min(calendar_day) as first_day from {{ calendar }}) as calendar_start
    inner join {{ calendar }} as seen
        on
            greatest(
                {{ known_date(events ~ '.' ~ event_time_column, events ~ '.loaded_at') }},
                calendar_start.first_day
            ) = seen.calendar_day
    {% for days in windows %}
        left join {{ calendar }} as out_{{ days }}
            on
                greatest(
                    cast({{ dbt.dateadd('day', days, events ~ '.' ~ event_time_column) }} as date),
                    calendar_start.first_day
                ) = out_{{ days }}.calendar_day
    {% endfor %}
{% endmacro %}
