{#
  Valid events of every source aggregated per customer and place on the
  snapshot axis (macros snapshot_place_columns and snapshot_place_joins): the
  snapshot that first sees them and, for each feature window, the first
  snapshot whose window no longer covers them. Every snapshot feature is
  computed from this table (int_customer_totals_by_snapshot), never from raw
  events: lifetime totals are running sums of what each snapshot first sees,
  window totals are lifetime totals minus what has left the window.

  Events with the same placement are interchangeable for every feature, so
  this is far fewer rows than events (or days: most customers do not come
  back the same day), and no later model reads event times again except for
  the order days of order_periods_180d.

  Each source is aggregated on its own, with only its own measures, and the
  results are stacked: one wide aggregation over all sources would hold every
  measure's state for every group. Money is summed in integer cents (macro
  exact_sum): exact sums do not depend on the order DuckDB's threads add rows
  in, so a rebuild gives bit-identical features.
#}

with spine as (
    select * from {{ ref('int_snapshot_spine') }}
),

calendar as (
    -- Every day from (the longest window + 1 day) before the first as_of to the
    -- last as_of, with the first snapshot strictly after it. A few hundred rows,
    -- so placing tens of millions of events is an equality lookup, not an as-of
    -- or range join. Days on or after the last as_of have no row.
    select
        cast(series.day as date) as calendar_day,
        next_snapshot.snapshot_index as next_snapshot_index
    from (
        select
            min(as_of) as first_as_of,
            max(as_of) as last_as_of
        from spine
    ) as bounds
    cross join
        generate_series(
            cast(
                {{ dbt.dateadd('day', -1 - feature_window_days() | max, 'bounds.first_as_of') }}
                as timestamp
            ),
            cast(bounds.last_as_of as timestamp),
            interval 1 day
        ) as series (day)
    asof inner join spine as next_snapshot on cast(series.day as date) < next_snapshot.as_of
),

orders as (
    select * from {{ ref('int_orders_validated') }}
),

site_visits as (
    select * from {{ ref('int_site_visits_validated') }}
),

loyalty_events as (
    select * from {{ ref('int_loyalty_events_validated') }}
),

reviews as (
    select * from {{ ref('int_reviews_validated') }}
),

support_tickets as (
    select * from {{ ref('int_support_tickets_validated') }}
),

order_buckets as (
    select
        events.customer_key,
        'orders' as event_source,
        {{ snapshot_place_columns() }}
        count(*) as orders_placed,
        {% for status in ['completed', 'cancelled', 'returned'] %}
            count(*) filter (where events.order_status = '{{ status }}') as orders_{{ status }},
        {% endfor %}
        {{ exact_sum('events.order_value * 100') }} filter (
            where events.order_status = 'completed'
        ) as revenue_completed_cents,
        {{ exact_sum('events.discount_amount * 100') }} filter (
            where events.order_status = 'completed'
        ) as discount_completed_cents,
        {{ exact_sum('events.item_count') }} filter (
            where events.order_status = 'completed'
        ) as items_completed,
        min(cast(events.ordered_at as date)) filter (
            where events.order_status = 'completed'
        ) as first_order_date,
        max(cast(events.ordered_at as date)) filter (
            where events.order_status = 'completed'
        ) as last_order_date
    from orders as events
    {{ snapshot_place_joins('events', 'ordered_at', 'calendar') }}
    where events.reject_reason is null
    group by all
),

visit_buckets as (
    select
        events.customer_key,
        'visits' as event_source,
        {{ snapshot_place_columns() }}
        count(*) as visits,
        {{ exact_sum('events.page_views') }} as page_views,
        {{ exact_sum('events.session_seconds') }} as session_seconds,
        max(cast(events.visited_at as date)) as last_visit_date
    from site_visits as events
    {{ snapshot_place_joins('events', 'visited_at', 'calendar') }}
    where events.reject_reason is null
    group by all
),

loyalty_buckets as (
    select
        events.customer_key,
        'loyalty' as event_source,
        {{ snapshot_place_columns() }}
        count(*) filter (where events.loyalty_event_type = 'enrolled') as loyalty_enrollments,
        {% for event_type in ['earned', 'redeemed', 'expired'] %}
            {{ exact_sum('events.points') }} filter (
                where events.loyalty_event_type = '{{ event_type }}'
            ) as points_{{ event_type }}{% if not loop.last %},{% endif %}
        {% endfor %}
    from loyalty_events as events
    {{ snapshot_place_joins('events', 'occurred_at', 'calendar') }}
    where events.reject_reason is null
    group by all
),

review_buckets as (
    select
        events.customer_key,
        'reviews' as event_source,
        {{ snapshot_place_columns() }}
        count(*) as reviews,
        {{ exact_sum('events.rating') }} as rating_sum,
        arg_max(events.rating, events.reviewed_at) as latest_rating,
        max(events.reviewed_at) as latest_reviewed_at
    from reviews as events
    {{ snapshot_place_joins('events', 'reviewed_at', 'calendar') }}
    where events.reject_reason is null
    group by all
),

ticket_buckets as (
    select
        events.customer_key,
        'tickets' as event_source,
        {{ snapshot_place_columns() }}
        count(*) as tickets
    from support_tickets as events
    {{ snapshot_place_joins('events', 'opened_at', 'calendar') }}
    where events.reject_reason is null
    group by all
),

stacked as (
    select * from order_buckets
    union all by name
    select * from visit_buckets
    union all by name
    select * from loyalty_buckets
    union all by name
    select * from review_buckets
    union all by name
    select * from ticket_buckets
),

final as (
    -- Each source leaves the other sources' measures null: make them 0.
    select
        * replace (
            cast(coalesce(orders_placed, 0) as bigint) as orders_placed,
            cast(coalesce(orders_completed, 0) as bigint) as orders_completed,
            cast(coalesce(orders_cancelled, 0) as bigint) as orders_cancelled,
            cast(coalesce(orders_returned, 0) as bigint) as orders_returned,
            cast(coalesce(revenue_completed_cents, 0) as bigint) as revenue_completed_cents,
            cast(coalesce(discount_completed_cents, 0) as bigint) as discount_completed_cents,
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
            cast(coalesce(tickets, 0) as bigint) as tickets
        )
    from stacked
)

select * from final
