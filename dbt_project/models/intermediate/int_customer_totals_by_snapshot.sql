{#
  Lifetime and recent-activity (30, 90, 180 days) totals per customer at
  every snapshot from the first one that sees any of their activity.

  Lifetime: the activity buckets summed per snapshot that first sees them
  (seen_index); running sums over the snapshot index are then exactly
  "everything known before as_of".

  Windows: lifetime totals minus what has left the window. A bucket leaves
  window w at out_w_index, the first snapshot whose w-day window no longer
  covers it, or at seen_index when it only became known after that (a very
  late row), so that it never counts. What leaves is summed per snapshot, and
  its running sums are taken away from the lifetime ones. Each bucket is
  touched once per window, whatever the schedule (a difference array over
  snapshots); the first version paired every row with every snapshot whose
  window covered it.

  The regularity feature (distinct 30-day periods with an order) is not a sum;
  it pairs only days with a completed order with the snapshots that see them.
#}

{% set lifetime_measures = [
    'orders_placed', 'orders_completed', 'orders_cancelled', 'orders_returned',
    'revenue_completed_cents', 'discount_completed_cents', 'items_completed', 'visits',
    'page_views', 'session_seconds', 'loyalty_enrollments', 'points_earned', 'points_redeemed',
    'points_expired', 'reviews', 'rating_sum', 'tickets',
] %}
{% set window_measures = {
    30: ['orders_completed', 'visits'],
    90: ['orders_completed', 'revenue_completed_cents', 'visits', 'page_views', 'session_seconds',
         'points_earned', 'points_redeemed', 'reviews', 'tickets'],
    180: ['orders_completed', 'revenue_completed_cents'],
} %}
{% if window_measures.keys() | list | sort != feature_window_days() | sort %}
    {{ exceptions.raise_compiler_error('window_measures must cover exactly feature_window_days()') }}
{% endif %}
{#- Feature names where they differ from the measure's (orders_lifetime, revenue_90d). -#}
{% set feature_names = {
    'orders_completed': 'orders', 'revenue_completed_cents': 'revenue',
    'discount_completed_cents': 'discount', 'items_completed': 'items',
} %}
{% set left_columns = [] %}
{% for days, measures in window_measures.items() %}
    {% for m in measures %}{% do left_columns.append(m ~ '_left_' ~ days ~ 'd') %}{% endfor %}
{% endfor %}

with spine as (
    select * from {{ ref('int_snapshot_spine') }}
),

completed_orders as (
    select * from {{ ref('int_orders_validated') }}
    where reject_reason is null and order_status = 'completed'
),

-- Both aggregations read the buckets table itself, not an import CTE: DuckDB
-- materialises a CTE used more than once, with every column.
added as (
    select
        customer_key,
        seen_index as snapshot_index,
        {% for m in lifetime_measures %}
            {{ exact_sum(m) }} as {{ m }},
        {% endfor %}
        min(first_order_date) as first_order_date,
        max(last_order_date) as last_order_date,
        max(last_visit_date) as last_visit_date,
        arg_max(latest_rating, latest_reviewed_at) as latest_rating,
        max(latest_reviewed_at) as latest_reviewed_at
    from {{ ref('int_customer_activity_buckets') }}
    group by customer_key, seen_index
),

leaving as (
    {% for days, measures in window_measures.items() %}
        select
            customer_key,
            greatest(seen_index, out_{{ days }}_index) as snapshot_index,
            {% for m in measures %}
                {{ m }} as {{ m }}_left_{{ days }}d{% if not loop.last %},{% endif %}
            {% endfor %}
        from {{ ref('int_customer_activity_buckets') }}
        where
            out_{{ days }}_index is not null
            and ({{ measures | join(' <> 0 or ') }} <> 0)
        {% if not loop.last %}union all by name{% endif %}
    {% endfor %}
),

left_per_snapshot as (
    select
        customer_key,
        snapshot_index,
        {% for column in left_columns %}
            {{ exact_sum(column) }} as {{ column }}{% if not loop.last %},{% endif %}
        {% endfor %}
    from leaving
    group by customer_key, snapshot_index
),

-- Every (customer, snapshot) from the customer's first visible snapshot to
-- the last one, with what arrived and what left there (null: nothing).
grid as (
    select
        first_seen.customer_key,
        spine.snapshot_index,
        spine.as_of,
        {% for m in lifetime_measures %}
            added.{{ m }},
        {% endfor %}
        added.first_order_date,
        added.last_order_date,
        added.last_visit_date,
        added.latest_rating,
        added.latest_reviewed_at,
        {% for column in left_columns %}
            left_per_snapshot.{{ column }}{% if not loop.last %},{% endif %}
        {% endfor %}
    from (
        select
            arrivals.customer_key,
            min(arrivals.snapshot_index) as first_snapshot_index
        from added as arrivals
        group by arrivals.customer_key
    ) as first_seen
    inner join spine on first_seen.first_snapshot_index <= spine.snapshot_index
    left join added
        on
            first_seen.customer_key = added.customer_key
            and spine.snapshot_index = added.snapshot_index
    left join left_per_snapshot
        on
            first_seen.customer_key = left_per_snapshot.customer_key
            and spine.snapshot_index = left_per_snapshot.snapshot_index
),

running as (
    select
        customer_key,
        snapshot_index,
        as_of,
        {% for m in lifetime_measures %}
            coalesce(sum({{ m }}) over known_so_far, 0) as {{ m }},
        {% endfor %}
        {% for column in left_columns %}
            coalesce(sum({{ column }}) over known_so_far, 0) as {{ column }},
        {% endfor %}
        min(first_order_date) over known_so_far as first_order_date,
        max(last_order_date) over known_so_far as last_order_date,
        max(last_visit_date) over known_so_far as last_visit_date,
        arg_max(latest_rating, latest_reviewed_at) over known_so_far as last_rating
    from grid
    window known_so_far as (
        partition by customer_key
        order by snapshot_index
        rows between unbounded preceding and current row
    )
),

order_days as (
    select distinct
        customer_key,
        cast(ordered_at as date) as activity_date,
        {{ known_date('ordered_at') }} as known_date
    from completed_orders
),

order_periods as (
    -- One bit per 30-day period before as_of with a completed order (a bit mask
    -- is far cheaper than a distinct count).
    select
        order_days.customer_key,
        spine.snapshot_index,
        bit_count(
            bit_or(
                cast(1 as integer) << cast(
                    floor(({{ dbt.datediff('order_days.activity_date', 'spine.as_of', 'day') }} - 1) / 30)
                    as integer
                )
            )
        ) as order_periods_180d
    from order_days
    inner join spine
        on
            order_days.known_date < spine.as_of
            and order_days.activity_date
            >= cast({{ dbt.dateadd('day', -180, 'spine.as_of') }} as date)
    group by order_days.customer_key, spine.snapshot_index
),

final as (
    select
        running.customer_key,
        running.snapshot_index,
        running.as_of,
        {% for m in lifetime_measures %}
            {{ from_exact_sum('running.' ~ m, m) }} as {{ feature_names.get(m, m) }}_lifetime,
        {% endfor %}
        running.first_order_date,
        running.last_order_date,
        running.last_visit_date,
        running.last_rating,
        {% for days, measures in window_measures.items() %}
            {% for m in measures %}
                {{ from_exact_sum('running.' ~ m ~ ' - running.' ~ m ~ '_left_' ~ days ~ 'd', m) }}
                    as {{ feature_names.get(m, m) }}_{{ days }}d,
            {% endfor %}
        {% endfor %}
        cast(coalesce(order_periods.order_periods_180d, 0) as bigint) as order_periods_180d
    from running
    left join order_periods
        on
            running.customer_key = order_periods.customer_key
            and running.snapshot_index = order_periods.snapshot_index
)

select * from final
