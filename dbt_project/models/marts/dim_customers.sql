{#
  One row per valid customer: attributes, lifetime history and, for customers
  active at the data horizon, the current features (the latest snapshot).
#}

with customers as (
    select * from {{ ref('stg_shop__customers') }}
    where reject_reason is null
),

spine as (
    select * from {{ ref('int_snapshot_spine') }}
),

current_snapshot as (
    select * from spine
    order by snapshot_index desc
    limit 1
),

lifetime as (
    select lifetime.*
    from {{ ref('int_customer_totals_by_snapshot') }} as lifetime
    inner join current_snapshot on lifetime.snapshot_index = current_snapshot.snapshot_index
),

current_features as (
    select snapshots.*
    from {{ ref('customer_snapshots') }} as snapshots
    inner join current_snapshot on snapshots.as_of = current_snapshot.as_of
),

final as (
    select
        customers.customer_id,
        customers.segment,
        customers.acquisition_channel,
        customers.country,
        coalesce(lifetime.orders_lifetime, 0) as orders_lifetime,
        cast(coalesce(lifetime.revenue_lifetime, 0) as double) as revenue_lifetime,
        current_features.customer_id is not null as is_active,
        current_features.days_since_last_order,
        current_features.orders_90d,
        current_features.revenue_180d,
        current_features.avg_order_value,
        current_features.avg_days_between_orders,
        current_features.purchase_overdue_ratio,
        current_features.order_trend_ratio,
        current_features.visits_90d,
        current_features.days_since_last_visit,
        current_features.is_loyalty_member,
        current_features.loyalty_points_balance,
        current_features.avg_rating,
        current_features.tickets_90d,
        current_features.return_rate,
        current_snapshot.as_of as features_as_of,
        lifetime.first_order_date,
        lifetime.last_order_date,
        customers.signed_up_at
    from customers
    cross join current_snapshot
    left join lifetime on customers.customer_key = lifetime.customer_key
    left join current_features on customers.customer_id = current_features.customer_id
)

select * from final
