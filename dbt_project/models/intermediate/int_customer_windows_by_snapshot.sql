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
        sum(orders_completed) filter (where days_before_as_of <= 30) as orders_30d,
        sum(orders_completed) filter (where days_before_as_of <= 90) as orders_90d,
        sum(orders_completed) as orders_180d,
        sum(revenue_completed) filter (where days_before_as_of <= 90) as revenue_90d,
        sum(revenue_completed) as revenue_180d,
        sum(visits) filter (where days_before_as_of <= 30) as visits_30d,
        sum(visits) filter (where days_before_as_of <= 90) as visits_90d,
        sum(page_views) filter (where days_before_as_of <= 90) as page_views_90d,
        sum(session_seconds) filter (where days_before_as_of <= 90) as session_seconds_90d,
        sum(points_earned) filter (where days_before_as_of <= 90) as points_earned_90d,
        sum(points_redeemed) filter (where days_before_as_of <= 90) as points_redeemed_90d,
        sum(reviews) filter (where days_before_as_of <= 90) as reviews_90d,
        sum(tickets) filter (where days_before_as_of <= 90) as tickets_90d
    from paired
    group by customer_key, snapshot_index
)

select * from final
