-- Today's high-value customers whose next purchase is most overdue relative to
-- their own rhythm: a rule-based risk list that needs no model.
select
    customer_id,
    segment,
    revenue_180d,
    days_since_last_order,
    round(avg_days_between_orders, 1) as usual_gap_days,
    round(purchase_overdue_ratio, 2) as overdue_ratio
from {{ ref('dim_customers') }}
where
    is_active
    and revenue_180d >= (
        select quantile_cont(revenue_180d, 0.8) from {{ ref('dim_customers') }}
        where is_active
    )
order by purchase_overdue_ratio desc nulls last
limit 20
