{#
  The snapshot dates (as_of, each a midnight). Set by the vars snapshot_start,
  snapshot_end and snapshot_interval; unset bounds are derived from the data:
  from the first month start after the first valid order up to the day after
  the data horizon (the "current" snapshot, which is always included).

  A schedule that starts after it ends, or has more than max_snapshots
  snapshots (a var mistake, or dates the quarantine did not catch), stops the
  build here, before any snapshot is computed.
#}
{% set starts_after_it_ends %}
    'the snapshot schedule starts (' || bounds.snapshot_start
    || ') after it ends (' || bounds.snapshot_end
    || '): check the vars snapshot_start and snapshot_end'
{% endset %}
{% set too_many_snapshots %}
    'the snapshot schedule has ' || schedule.snapshots || ' snapshots ('
    || bounds.snapshot_start || ' to ' || bounds.snapshot_end
    || '), more than max_snapshots ({{ var('max_snapshots') }}): check the'
    || ' vars snapshot_start, snapshot_end and snapshot_interval, and the'
    || ' dates in marts.quarantined_rows, or raise max_snapshots'
{% endset %}

with orders as (
    select ordered_at from {{ ref('int_orders_validated') }}
    where reject_reason is null
),

bounds as (
    select
        coalesce({{ var_literal('data_horizon', 'timestamp') }}, max(ordered_at)) as data_horizon,
        coalesce(
            {{ var_literal('snapshot_start', 'date') }},
            cast({{ dbt.dateadd('month', 1, dbt.date_trunc('month', 'min(ordered_at)')) }} as date)
        ) as snapshot_start,
        coalesce(
            {{ var_literal('snapshot_end', 'date') }},
            cast({{ dbt.dateadd('day', 1, 'cast(max(ordered_at) as date)') }} as date)
        ) as snapshot_end
    from orders
),

scheduled as (
    select cast(series.as_of as date) as as_of
    from bounds
    {{ timestamp_series(
        'cast(bounds.snapshot_start as timestamp)',
        'cast(bounds.snapshot_end as timestamp)',
        "interval '" ~ var('snapshot_interval') | replace("'", "''") ~ "'",
        'series',
        'as_of',
    ) }}
    union
    select snapshot_end as as_of from bounds
),

final as (
    select
        cast(row_number() over (order by scheduled.as_of) as integer) as snapshot_index,
        scheduled.as_of,
        cast(
            {{ dbt.dateadd('day', var('churn_window_days'), 'scheduled.as_of') }} as date
        ) as label_window_end,
        bounds.data_horizon,
        {{ dbt.dateadd('day', var('churn_window_days'), 'scheduled.as_of') }}
        <= bounds.data_horizon as is_label_complete
    from scheduled
    cross join bounds
    where scheduled.as_of <= bounds.snapshot_end
),

schedule as (
    select count(*) as snapshots from final
),

guarded as (
    select final.*
    from final
    cross join bounds
    cross join schedule
    where
        case
            when bounds.snapshot_start > bounds.snapshot_end
                then {{ raise_error(starts_after_it_ends) }}
            when schedule.snapshots > {{ var('max_snapshots') }}
                then {{ raise_error(too_many_snapshots) }}
            else true
        end
)

select * from guarded
