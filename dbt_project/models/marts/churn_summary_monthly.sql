{#
  Monthly churn by segment and acquisition channel over the labeled snapshots:
  how many active customers there were at each as_of and how many churned in
  the following churn window.
#}

with snapshots as (
    select * from {{ ref('customer_snapshots') }}
    where churned is not null
),

final as (
    select
        as_of,
        segment,
        acquisition_channel,
        count(*) as active_customers,
        cast(sum(churned) as bigint) as churned_customers,
        avg(churned) as churn_rate,
        -- The exact sum in cents over the count in cents (how DuckDB averages
        -- decimals): the same double on every engine and every rebuild.
        cast(sum(cast(cast(revenue_180d as decimal(18, 2)) * 100 as bigint)) as double)
        / (count(revenue_180d) * 100) as avg_revenue_180d,
        avg(orders_90d) as avg_orders_90d,
        avg(cast(is_loyalty_member as integer)) as loyalty_member_share
    from snapshots
    group by as_of, segment, acquisition_channel
)

select * from final
