{#
  Recent-activity totals (30, 90 and 180 days before as_of) per customer and
  snapshot, as running sums of changes (a difference array over snapshots).

  An activity bucket counts for snapshot k in window w when k is at or after
  the snapshot that first sees it (seen_index) and before the first snapshot
  whose w-day window no longer covers it (out_w_index). So it adds its
  measures at seen_index and takes them away at out_w_index, and the running
  sum over snapshots is the window total: each bucket is touched a constant
  number of times, instead of being paired with every snapshot whose window
  covers it. A bucket that is already out of the window when it becomes known
  (very late rows) never counts; one with none of a window's measures is
  skipped for that window.

  The regularity feature (distinct 30-day periods with an order) is not a sum;
  it pairs only days with a completed order with the snapshots that see them.
#}

{% set window_measures = {
    30: ['orders_completed', 'visits'],
    90: ['orders_completed', 'revenue_completed_cents', 'visits', 'page_views', 'session_seconds',
         'points_earned', 'points_redeemed', 'reviews', 'tickets'],
    180: ['orders_completed', 'revenue_completed_cents'],
} %}
{% set window_columns = [] %}
{% for days, measures in window_measures.items() %}
    {% for m in measures %}{% do window_columns.append(m ~ '_' ~ days ~ 'd') %}{% endfor %}
{% endfor %}

with spine as (
    select * from {{ ref('int_snapshot_spine') }}
),

completed_orders as (
    select * from {{ ref('int_orders_validated') }}
    where reject_reason is null and order_status = 'completed'
),

-- The branches read the buckets table itself, not an import CTE: a CTE used
-- six times is materialised with every column (27 s of CPU at 1M customers).
changes as (
    {% for days, measures in window_measures.items() %}
        {% set has_measures = '(' ~ measures | join(' <> 0 or ') ~ ' <> 0)' %}
        select
            {% for m in measures %}
                {{ m }} as {{ m }}_{{ days }}d,
            {% endfor %}
            customer_key,
            seen_index as snapshot_index
        from {{ ref('int_customer_activity_buckets') }}
        where
            (out_{{ days }}_index is null or out_{{ days }}_index > seen_index)
            and {{ has_measures }}
        union all by name
        select
            {% for m in measures %}
                -{{ m }} as {{ m }}_{{ days }}d,
            {% endfor %}
            customer_key,
            out_{{ days }}_index as snapshot_index
        from {{ ref('int_customer_activity_buckets') }}
        where out_{{ days }}_index > seen_index and {{ has_measures }}
        {% if not loop.last %}union all by name{% endif %}
    {% endfor %}
),

by_snapshot as (
    select
        {% for column in window_columns %}
            coalesce({{ exact_sum(column) }}, 0) as {{ column }},
        {% endfor %}
        customer_key,
        snapshot_index
    from changes
    group by customer_key, snapshot_index
),

grid as (
    {{ snapshot_grid('by_snapshot', 'spine') }}
),

running as (
    select
        {% for column in window_columns %}
            sum(grid.{{ column }}) over known_so_far as {{ column }},
        {% endfor %}
        grid.customer_key,
        grid.snapshot_index
    from grid
    window known_so_far as ({{ known_so_far() }})
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
        cast(running.orders_completed_30d as bigint) as orders_30d,
        cast(running.orders_completed_90d as bigint) as orders_90d,
        cast(running.orders_completed_180d as bigint) as orders_180d,
        cast(coalesce(order_periods.order_periods_180d, 0) as bigint) as order_periods_180d,
        running.revenue_completed_cents_90d / 100 as revenue_90d,
        running.revenue_completed_cents_180d / 100 as revenue_180d,
        cast(running.visits_30d as bigint) as visits_30d,
        cast(running.visits_90d as bigint) as visits_90d,
        cast(running.page_views_90d as bigint) as page_views_90d,
        cast(running.session_seconds_90d as bigint) as session_seconds_90d,
        cast(running.points_earned_90d as bigint) as points_earned_90d,
        cast(running.points_redeemed_90d as bigint) as points_redeemed_90d,
        cast(running.reviews_90d as bigint) as reviews_90d,
        cast(running.tickets_90d as bigint) as tickets_90d
    from running
    left join order_periods
        on
            running.customer_key = order_periods.customer_key
            and running.snapshot_index = order_periods.snapshot_index
)

select * from final
