-- Today's riskiest high-value customers, and whether a retention offer pays for
-- them: the champion model's latest scores (run `python -m modeling.score`).
with risk as (
    select * from {{ ref('customer_risk') }}
),

high_value as (
    select quantile_cont(revenue_180d, 0.8) as min_revenue_180d from risk
)

select
    risk.customer_id,
    risk.segment,
    risk.revenue_180d,
    risk.days_since_last_order,
    risk.risk_decile,
    risk.recommended_action,
    round(risk.churn_probability, 3) as churn_probability,
    round(risk.expected_value_of_contact, 2) as expected_value
from risk
inner join high_value on risk.revenue_180d >= high_value.min_revenue_180d
order by risk.churn_probability desc
limit 20
