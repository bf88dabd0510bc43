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
        -- Averaged exactly (as decimal), so a rebuild gives the same digits.
        cast(avg(cast(revenue_180d as decimal(18, 2))) as double) as avg_revenue_180d,
        avg(orders_90d) as avg_orders_90d,
        avg(cast(is_loyalty_member as integer)) as loyalty_member_share
    from snapshots
    group by as_of, segment, acquisition_channel
)

select * from final
