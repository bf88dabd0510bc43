{#
  Dates of rows that are isolated from the rest of their table: the dates
  split into segments wherever more than isolated_gap_days pass without a
  row; a segment is isolated when it holds at most isolated_max_share of the
  table's rows and lies before the first or after the last larger segment.
  Those rows are typos (an order typed as 2032 in a 2019-2021 export), and
  kept they would stretch the snapshot schedule and the data horizon: the
  validated models quarantine them as isolated_timestamp. A gap inside the
  span cannot stretch anything and is left alone, and a table too small for
  any segment to be that small has no isolated dates.
#}
{#- New rows can change which dates are isolated, and so the validity of rows
    an incremental refresh keeps: the post-hook then turns the refresh into a
    full rebuild (macro refresh_check_isolated_dates). -#}
{{ config(post_hook="{{ refresh_check_isolated_dates() }}") }}


with event_dates as (
    select * from {{ ref('stg_shop__event_dates') }}
    where event_date >= {{ var_literal('earliest_event_date', 'date') }}
),

daily as (
    select
        source_table,
        event_date,
        count(*) as events
    from event_dates
    group by source_table, event_date
),

segmented as (
    select
        source_table,
        event_date,
        events,
        sum(case when gap_days > {{ var('isolated_gap_days') }} then 1 else 0 end) over (
            partition by source_table order by event_date rows unbounded preceding
        ) as segment
    from (
        select
            *,
            {{ dbt.datediff(
                'lag(event_date) over (partition by source_table order by event_date)',
                'event_date',
                'day'
            ) }} as gap_days
        from daily
    ) as with_gaps
),

segments as (
    select
        source_table,
        segment,
        sum(events) as events,
        sum(sum(events)) over (partition by source_table) as table_events
    from segmented
    group by source_table, segment
),

sized as (
    select
        *,
        events > {{ var('isolated_max_share') }} * table_events as is_large,
        min(case when events > {{ var('isolated_max_share') }} * table_events then segment end)
            over (partition by source_table) as first_large,
        max(case when events > {{ var('isolated_max_share') }} * table_events then segment end)
            over (partition by source_table) as last_large
    from segments
),

final as (
    select
        segmented.source_table,
        segmented.event_date
    from segmented
    inner join sized
        on
            segmented.source_table = sized.source_table
            and segmented.segment = sized.segment
    where
        not sized.is_large
        and (sized.segment < sized.first_large or sized.segment > sized.last_large)
)

select * from final
