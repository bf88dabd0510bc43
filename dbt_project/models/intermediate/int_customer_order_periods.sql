{#
  Regularity: how many of the six 30-day periods before each as_of had a
  completed order known before it (order_periods_180d). A distinct count over
  a window is not a sum, so it cannot come from the feature catalog's running
  totals: it pairs only the days with a completed order with the snapshots
  that see them, and sets one bit per period (a bit mask is far cheaper than
  a distinct count). Rows only where the count is above 0.
#}

with spine as (
    select * from {{ ref('int_snapshots_to_build') }}
),

completed_orders as (
    select * from {{ ref('int_orders_validated') }}
    where reject_reason is null and order_status = 'completed'
),

order_days as (
    select distinct
        customer_key,
        cast(ordered_at as date) as activity_date,
        {{ known_date('ordered_at') }} as known_date
    from completed_orders
),

final as (
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
)

select * from final
