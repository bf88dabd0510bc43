{#
  Recent-activity totals (30, 90 and 180 days before as_of) per customer and
  snapshot, as running sums of changes (a difference array over snapshots).

  A daily row counts for snapshot k in window w when it was known before as_of
  (k >= the first snapshot after its known_date: `seen`) and is at most w days
  old (k < the first snapshot after activity_date + w: `out_w`). So it adds its
  measures at `seen` and takes them away at `out_w`, and the running sum over
  snapshots is the window total: each row is touched a constant number of
  times, instead of being paired with every snapshot whose window covers it.
  A row that is already out of the window when it becomes known (a very late
  row) never counts.

  The regularity feature (distinct 30-day periods with an order) is not a sum;
  it pairs only days with a completed order with the snapshots that see them.
#}

{% set window_measures = {
    30: ['orders_completed', 'visits'],
    90: ['orders_completed', 'revenue_completed', 'visits', 'page_views', 'session_seconds',
         'points_earned', 'points_redeemed', 'reviews', 'tickets'],
    180: ['orders_completed', 'revenue_completed'],
} %}
{% set window_columns = [] %}
{% for days, measures in window_measures.items() %}
    {% for m in measures %}{% do window_columns.append(m ~ '_' ~ days ~ 'd') %}{% endfor %}
{% endfor %}

with daily as (
    select * from {{ ref('int_customer_daily_activity') }}
),

spine as (
    select * from {{ ref('int_snapshot_spine') }}
),

calendar as (
    {{ next_snapshot_calendar('daily', 'spine') }}
),

placed as (
    select
        daily.customer_key,
        seen.next_snapshot_index as seen_index,
        {% for days in window_measures %}
            out_{{ days }}.next_snapshot_index as out_{{ days }}_index,
        {% endfor %}
        sum(daily.orders_completed) as orders_completed,
        sum(daily.revenue_completed) as revenue_completed,
        sum(daily.visits) as visits,
        sum(daily.page_views) as page_views,
        sum(daily.session_seconds) as session_seconds,
        sum(daily.points_earned) as points_earned,
        sum(daily.points_redeemed) as points_redeemed,
        sum(daily.reviews) as reviews,
        sum(daily.tickets) as tickets
    from daily
    inner join calendar as seen on daily.known_date = seen.day
    {% for days in window_measures %}
        left join calendar as out_{{ days }}
            on cast({{ dbt.dateadd('day', days, 'daily.activity_date') }} as date) = out_{{ days }}.day
    {% endfor %}
    group by all
),

changes as (
    {% for days, measures in window_measures.items() %}
        select
            {% for m in measures %}
                {{ m }} as {{ m }}_{{ days }}d,
            {% endfor %}
            customer_key,
            seen_index as snapshot_index
        from placed
        where out_{{ days }}_index is null or out_{{ days }}_index > seen_index
        union all by name
        select
            {% for m in measures %}
                -{{ m }} as {{ m }}_{{ days }}d,
            {% endfor %}
            customer_key,
            out_{{ days }}_index as snapshot_index
        from placed
        where out_{{ days }}_index > seen_index
        {% if not loop.last %}union all by name{% endif %}
    {% endfor %}
),

by_snapshot as (
    select
        {% for column in window_columns %}
            coalesce(sum({{ column }}), 0) as {{ column }},
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

order_periods as (
    -- One bit per 30-day period before as_of with a completed order (a bit mask
    -- is far cheaper than a distinct count).
    select
        daily.customer_key,
        spine.snapshot_index,
        bit_count(
            bit_or(
                cast(1 as integer) << cast(
                    floor(({{ dbt.datediff('daily.activity_date', 'spine.as_of', 'day') }} - 1) / 30)
                    as integer
                )
            )
        ) as order_periods_180d
    from daily
    inner join spine
        on
            daily.known_date < spine.as_of
            and daily.activity_date >= cast({{ dbt.dateadd('day', -180, 'spine.as_of') }} as date)
    where daily.orders_completed > 0
    group by daily.customer_key, spine.snapshot_index
),

final as (
    select
        running.customer_key,
        running.snapshot_index,
        cast(running.orders_completed_30d as bigint) as orders_30d,
        cast(running.orders_completed_90d as bigint) as orders_90d,
        cast(running.orders_completed_180d as bigint) as orders_180d,
        cast(coalesce(order_periods.order_periods_180d, 0) as bigint) as order_periods_180d,
        cast(running.revenue_completed_90d as double) as revenue_90d,
        cast(running.revenue_completed_180d as double) as revenue_180d,
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
