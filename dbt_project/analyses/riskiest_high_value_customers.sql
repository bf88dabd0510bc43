-- Today's riskiest high-value customers, and whether a retention offer pays for
-- them: the champion model's latest scores (run `python -m modeling.score`).
select
    customer_id,
    segment,
    revenue_180d,
    days_since_last_order,
    risk_decile,
    recommended_action,
    round(churn_probability, 3) as churn_probability,
    round(expected_value_of_contact, 2) as expected_value
from {{ ref('customer_risk') }}
where
    revenue_180d >= (
        select quantile_cont(revenue_180d, 0.8) from {{ ref('customer_risk') }}
    )
order by churn_probability desc
limit 20
