-- Today's high-value customers whose next purchase is most overdue relative to
-- their own rhythm: a rule-based risk list that needs no model.
with active as (
    select * from {{ ref('dim_customers') }}
    where is_active
),

high_value as (
    select quantile_cont(revenue_180d, 0.8) as min_revenue_180d from active
)

select
    active.customer_id,
    active.segment,
    active.revenue_180d,
    active.days_since_last_order,
    round(active.avg_days_between_orders, 1) as usual_gap_days,
    round(active.purchase_overdue_ratio, 2) as overdue_ratio
from active
inner join high_value on active.revenue_180d >= high_value.min_revenue_180d
order by active.purchase_overdue_ratio desc nulls last
limit 20
