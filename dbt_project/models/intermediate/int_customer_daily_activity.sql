{#
  Valid events pre-aggregated per customer, activity date, known date (the date
  from which a snapshot may see them: see the known_date macro) and source.
  Every snapshot feature is computed from this table, never from raw events,
  which keeps the snapshot models cheap however many snapshots there are.

  Each source is aggregated on its own, with only its own measures, and the
  results are stacked: one wide aggregation over all sources would hold every
  measure's state for every group and runs out of memory at tens of millions
  of events. Downstream models only sum, min and max these rows, so a day with
  orders and visits being two rows changes nothing. Money stays decimal: exact
  sums do not depend on the order DuckDB's threads add rows in, so a rebuild
  gives bit-identical features.
#}

with order_days as (
    select
        customer_key,
        cast(ordered_at as date) as activity_date,
        {{ known_date('ordered_at') }} as known_date,
        'orders' as event_source,
        count(*) as orders_placed,
        count(*) filter (where order_status = 'completed') as orders_completed,
        count(*) filter (where order_status = 'cancelled') as orders_cancelled,
        count(*) filter (where order_status = 'returned') as orders_returned,
        sum(order_value) filter (where order_status = 'completed') as revenue_completed,
        sum(discount_amount) filter (where order_status = 'completed') as discount_completed,
        sum(cast(item_count as bigint)) filter (
            where order_status = 'completed'
        ) as items_completed
    from {{ ref('int_orders_validated') }}
    where reject_reason is null
    group by all
),

visit_days as (
    select
        customer_key,
        cast(visited_at as date) as activity_date,
        {{ known_date('visited_at') }} as known_date,
        'visits' as event_source,
        count(*) as visits,
        sum(cast(page_views as bigint)) as page_views,
        sum(cast(session_seconds as bigint)) as session_seconds
    from {{ ref('int_site_visits_validated') }}
    where reject_reason is null
    group by all
),

loyalty_days as (
    select
        customer_key,
        cast(occurred_at as date) as activity_date,
        {{ known_date('occurred_at') }} as known_date,
        'loyalty' as event_source,
        count(*) filter (where loyalty_event_type = 'enrolled') as loyalty_enrollments,
        sum(cast(points as bigint)) filter (where loyalty_event_type = 'earned') as points_earned,
        sum(cast(points as bigint)) filter (
            where loyalty_event_type = 'redeemed'
        ) as points_redeemed,
        sum(cast(points as bigint)) filter (where loyalty_event_type = 'expired') as points_expired
    from {{ ref('int_loyalty_events_validated') }}
    where reject_reason is null
    group by all
),

review_days as (
    select
        customer_key,
        cast(reviewed_at as date) as activity_date,
        {{ known_date('reviewed_at') }} as known_date,
        'reviews' as event_source,
        count(*) as reviews,
        sum(cast(rating as bigint)) as rating_sum,
        arg_max(rating, reviewed_at) as latest_rating,
        max(reviewed_at) as latest_reviewed_at
    from {{ ref('int_reviews_validated') }}
    where reject_reason is null
    group by all
),

ticket_days as (
    select
        customer_key,
        cast(opened_at as date) as activity_date,
        {{ known_date('opened_at') }} as known_date,
        'tickets' as event_source,
        count(*) as tickets
    from {{ ref('int_support_tickets_validated') }}
    where reject_reason is null
    group by all
),

stacked as (
    select * from order_days
    union all by name
    select * from visit_days
    union all by name
    select * from loyalty_days
    union all by name
    select * from review_days
    union all by name
    select * from ticket_days
),

final as (
    select
        customer_key,
        activity_date,
        known_date,
        event_source,
        cast(coalesce(orders_placed, 0) as bigint) as orders_placed,
        cast(coalesce(orders_completed, 0) as bigint) as orders_completed,
        cast(coalesce(orders_cancelled, 0) as bigint) as orders_cancelled,
        cast(coalesce(orders_returned, 0) as bigint) as orders_returned,
        coalesce(revenue_completed, 0) as revenue_completed,
        coalesce(discount_completed, 0) as discount_completed,
        cast(coalesce(items_completed, 0) as bigint) as items_completed,
        cast(coalesce(visits, 0) as bigint) as visits,
        cast(coalesce(page_views, 0) as bigint) as page_views,
        cast(coalesce(session_seconds, 0) as bigint) as session_seconds,
        cast(coalesce(loyalty_enrollments, 0) as bigint) as loyalty_enrollments,
        cast(coalesce(points_earned, 0) as bigint) as points_earned,
        cast(coalesce(points_redeemed, 0) as bigint) as points_redeemed,
        cast(coalesce(points_expired, 0) as bigint) as points_expired,
        cast(coalesce(reviews, 0) as bigint) as reviews,
        cast(coalesce(rating_sum, 0) as bigint) as rating_sum,
        latest_rating,
        latest_reviewed_at,
        cast(coalesce(tickets, 0) as bigint) as tickets
    from stacked
)

select * from final
