{#
  Valid events pre-aggregated per customer, activity date and known date (the
  date from which a snapshot may see them: see the known_date macro). Every
  snapshot feature is computed from this table, never from raw events, which
  keeps the snapshot models cheap however many snapshots there are.
#}

with orders as (
    select * from {{ ref('int_orders_validated') }}
    where reject_reason is null
),

-- Each source projected onto the activity measures it contributes to; the
-- union by name leaves the others null, and the final aggregation sums them.
order_events as (
    select
        customer_key,
        cast(ordered_at as date) as activity_date,
        {{ known_date('ordered_at') }} as known_date,
        1 as orders_placed,
        cast(order_status = 'completed' as integer) as orders_completed,
        cast(order_status = 'cancelled' as integer) as orders_cancelled,
        cast(order_status = 'returned' as integer) as orders_returned,
        case when order_status = 'completed' then order_value end as revenue_completed,
        case when order_status = 'completed' then discount_amount end as discount_completed,
        case when order_status = 'completed' then item_count end as items_completed
    from orders
),

visit_events as (
    select
        customer_key,
        cast(visited_at as date) as activity_date,
        {{ known_date('visited_at') }} as known_date,
        1 as visits,
        page_views,
        session_seconds
    from {{ ref('int_site_visits_validated') }}
    where reject_reason is null
),

loyalty_events as (
    select
        customer_key,
        cast(occurred_at as date) as activity_date,
        {{ known_date('occurred_at') }} as known_date,
        cast(loyalty_event_type = 'enrolled' as integer) as loyalty_enrollments,
        case when loyalty_event_type = 'earned' then points end as points_earned,
        case when loyalty_event_type = 'redeemed' then points end as points_redeemed,
        case when loyalty_event_type = 'expired' then points end as points_expired
    from {{ ref('int_loyalty_events_validated') }}
    where reject_reason is null
),

review_events as (
    select
        customer_key,
        cast(reviewed_at as date) as activity_date,
        {{ known_date('reviewed_at') }} as known_date,
        1 as reviews,
        rating,
        reviewed_at
    from {{ ref('int_reviews_validated') }}
    where reject_reason is null
),

ticket_events as (
    select
        customer_key,
        cast(opened_at as date) as activity_date,
        {{ known_date('opened_at') }} as known_date,
        1 as tickets
    from {{ ref('int_support_tickets_validated') }}
    where reject_reason is null
),

all_events as (
    select * from order_events
    union all by name
    select * from visit_events
    union all by name
    select * from loyalty_events
    union all by name
    select * from review_events
    union all by name
    select * from ticket_events
),

final as (
    select
        customer_key,
        activity_date,
        known_date,
        coalesce(sum(orders_placed), 0) as orders_placed,
        coalesce(sum(orders_completed), 0) as orders_completed,
        coalesce(sum(orders_cancelled), 0) as orders_cancelled,
        coalesce(sum(orders_returned), 0) as orders_returned,
        coalesce(sum(revenue_completed), 0) as revenue_completed,
        coalesce(sum(discount_completed), 0) as discount_completed,
        coalesce(sum(items_completed), 0) as items_completed,
        coalesce(sum(visits), 0) as visits,
        coalesce(sum(page_views), 0) as page_views,
        coalesce(sum(session_seconds), 0) as session_seconds,
        coalesce(sum(loyalty_enrollments), 0) as loyalty_enrollments,
        coalesce(sum(points_earned), 0) as points_earned,
        coalesce(sum(points_redeemed), 0) as points_redeemed,
        coalesce(sum(points_expired), 0) as points_expired,
        coalesce(sum(reviews), 0) as reviews,
        coalesce(sum(rating), 0) as rating_sum,
        arg_max(rating, reviewed_at) as latest_rating,
        max(reviewed_at) as latest_reviewed_at,
        coalesce(sum(tickets), 0) as tickets
    from all_events
    group by customer_key, activity_date, known_date
)

select * from final
