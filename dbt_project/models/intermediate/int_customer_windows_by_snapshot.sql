{#
  Recent-activity totals (30, 90 and 180 days before as_of) per customer and
  snapshot. A daily row counts for a snapshot when it was known before as_of and
  happened within the window; the range join only pairs rows with the few
  snapshots whose 180-day window covers them, so the cost grows with
  (rows x snapshots per 180 days), not with the full history.
#}

with daily as (
    select * from {{ ref('int_customer_daily_activity') }}
),

spine as (
    select * from {{ ref('int_snapshot_spine') }}
),

paired as (
    select
        daily.*,
        spine.snapshot_index,
        {{ dbt.datediff('daily.activity_date', 'spine.as_of', 'day') }} as days_before_as_of
    from daily
    inner join spine
        on
            daily.known_date < spine.as_of
            and daily.activity_date >= cast({{ dbt.dateadd('day', -180, 'spine.as_of') }} as date)
),

final as (
    select
        customer_key,
        snapshot_index,
        cast(sum(orders_completed) filter (where days_before_as_of <= 30) as bigint) as orders_30d,
        cast(sum(orders_completed) filter (where days_before_as_of <= 90) as bigint) as orders_90d,
        cast(sum(orders_completed) as bigint) as orders_180d,
        -- Regularity: how many of the six 30-day periods before as_of had an order
        -- (one bit per period; a bit mask is far cheaper than a distinct count).
        cast(bit_count(
            bit_or(
                cast(1 as integer) << cast(floor((days_before_as_of - 1) / 30) as integer)
            ) filter (where orders_completed > 0)
        ) as bigint) as order_periods_180d,
        cast(sum(revenue_completed) filter (where days_before_as_of <= 90) as double) as revenue_90d,
        cast(sum(revenue_completed) as double) as revenue_180d,
        cast(sum(visits) filter (where days_before_as_of <= 30) as bigint) as visits_30d,
        cast(sum(visits) filter (where days_before_as_of <= 90) as bigint) as visits_90d,
        cast(sum(page_views) filter (where days_before_as_of <= 90) as bigint) as page_views_90d,
        cast(sum(session_seconds) filter (where days_before_as_of <= 90) as bigint) as session_seconds_90d,
        cast(sum(points_earned) filter (where days_before_as_of <= 90) as bigint) as points_earned_90d,
        cast(sum(points_redeemed) filter (where days_before_as_of <= 90) as bigint) as points_redeemed_90d,
        cast(sum(reviews) filter (where days_before_as_of <= 90) as bigint) as reviews_90d,
        cast(sum(tickets) filter (where days_before_as_of <= 90) as bigint) as tickets_90d
    from paired
    group by customer_key, snapshot_index
)

select * from final
