{#
  Lifetime totals per customer at every snapshot from the first one that sees
  any of their activity. Each daily row is assigned (by a calendar lookup) to
  the first snapshot whose as_of is after its known_date; running totals over
  the snapshot index then give exactly "everything known before as_of".
#}

with daily as (
    select * from {{ ref('int_customer_daily_activity') }}
),

spine as (
    select * from {{ ref('int_snapshot_spine') }}
),

calendar as (
    {{ next_snapshot_calendar('daily', 'spine') }}
),

per_snapshot as (
    select
        daily.customer_key,
        seen.next_snapshot_index as snapshot_index,
        sum(daily.orders_placed) as orders_placed,
        sum(daily.orders_completed) as orders_completed,
        sum(daily.orders_cancelled) as orders_cancelled,
        sum(daily.orders_returned) as orders_returned,
        sum(daily.revenue_completed) as revenue_completed,
        sum(daily.discount_completed) as discount_completed,
        sum(daily.items_completed) as items_completed,
        min(daily.activity_date) filter (where daily.orders_completed > 0) as first_order_date,
        max(daily.activity_date) filter (where daily.orders_completed > 0) as last_order_date,
        max(daily.activity_date) filter (where daily.visits > 0) as last_visit_date,
        sum(daily.visits) as visits,
        sum(daily.loyalty_enrollments) as loyalty_enrollments,
        sum(daily.points_earned) as points_earned,
        sum(daily.points_redeemed) as points_redeemed,
        sum(daily.points_expired) as points_expired,
        sum(daily.reviews) as reviews,
        sum(daily.rating_sum) as rating_sum,
        arg_max(daily.latest_rating, daily.latest_reviewed_at) as latest_rating,
        max(daily.latest_reviewed_at) as latest_reviewed_at,
        sum(daily.tickets) as tickets
    from daily
    inner join calendar as seen on daily.known_date = seen.day
    group by daily.customer_key, seen.next_snapshot_index
),

grid as (
    {{ snapshot_grid('per_snapshot', 'spine') }}
),

final as (
    select
        grid.customer_key,
        grid.snapshot_index,
        grid.as_of,
        cast(sum(grid.orders_placed) over known_so_far as bigint) as orders_placed_lifetime,
        cast(sum(grid.orders_completed) over known_so_far as bigint) as orders_lifetime,
        cast(sum(grid.orders_cancelled) over known_so_far as bigint) as orders_cancelled_lifetime,
        cast(sum(grid.orders_returned) over known_so_far as bigint) as orders_returned_lifetime,
        cast(sum(grid.revenue_completed) over known_so_far as double) as revenue_lifetime,
        cast(sum(grid.discount_completed) over known_so_far as double) as discount_lifetime,
        cast(sum(grid.items_completed) over known_so_far as bigint) as items_lifetime,
        min(grid.first_order_date) over known_so_far as first_order_date,
        max(grid.last_order_date) over known_so_far as last_order_date,
        max(grid.last_visit_date) over known_so_far as last_visit_date,
        cast(sum(grid.visits) over known_so_far as bigint) as visits_lifetime,
        cast(sum(grid.loyalty_enrollments) over known_so_far as bigint) as loyalty_enrollments_lifetime,
        cast(sum(grid.points_earned) over known_so_far as bigint) as points_earned_lifetime,
        cast(sum(grid.points_redeemed) over known_so_far as bigint) as points_redeemed_lifetime,
        cast(sum(grid.points_expired) over known_so_far as bigint) as points_expired_lifetime,
        cast(sum(grid.reviews) over known_so_far as bigint) as reviews_lifetime,
        cast(sum(grid.rating_sum) over known_so_far as bigint) as rating_sum_lifetime,
        arg_max(grid.latest_rating, grid.latest_reviewed_at) over known_so_far as last_rating,
        cast(sum(grid.tickets) over known_so_far as bigint) as tickets_lifetime
    from grid
    window known_so_far as ({{ known_so_far() }})
)

select * from final
