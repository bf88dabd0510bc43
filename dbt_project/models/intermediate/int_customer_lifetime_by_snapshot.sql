{#
  Lifetime totals per customer at every snapshot from the first one that sees
  any of their activity: the activity buckets summed per snapshot that first
  sees them (seen_index), then running totals over the snapshot index give
  exactly "everything known before as_of".
#}

with buckets as (
    select * from {{ ref('int_customer_activity_buckets') }}
),

spine as (
    select * from {{ ref('int_snapshot_spine') }}
),

per_snapshot as (
    select
        customer_key,
        seen_index as snapshot_index,
        {{ exact_sum('orders_placed') }} as orders_placed,
        {{ exact_sum('orders_completed') }} as orders_completed,
        {{ exact_sum('orders_cancelled') }} as orders_cancelled,
        {{ exact_sum('orders_returned') }} as orders_returned,
        {{ exact_sum('revenue_completed_cents') }} as revenue_completed_cents,
        {{ exact_sum('discount_completed_cents') }} as discount_completed_cents,
        {{ exact_sum('items_completed') }} as items_completed,
        min(first_order_date) as first_order_date,
        max(last_order_date) as last_order_date,
        max(last_visit_date) as last_visit_date,
        {{ exact_sum('visits') }} as visits,
        {{ exact_sum('loyalty_enrollments') }} as loyalty_enrollments,
        {{ exact_sum('points_earned') }} as points_earned,
        {{ exact_sum('points_redeemed') }} as points_redeemed,
        {{ exact_sum('points_expired') }} as points_expired,
        {{ exact_sum('reviews') }} as reviews,
        {{ exact_sum('rating_sum') }} as rating_sum,
        arg_max(latest_rating, latest_reviewed_at) as latest_rating,
        max(latest_reviewed_at) as latest_reviewed_at,
        sum(tickets) as tickets
    from buckets
    group by customer_key, seen_index
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
        sum(grid.revenue_completed_cents) over known_so_far / 100 as revenue_lifetime,
        sum(grid.discount_completed_cents) over known_so_far / 100 as discount_lifetime,
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
