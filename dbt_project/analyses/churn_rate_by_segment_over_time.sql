-- Churn rate by segment at each labeled snapshot: is churn rising, and where?
select
    as_of,
    segment,
    sum(active_customers) as active_customers,
    sum(churned_customers) as churned_customers,
    round(sum(churned_customers) / sum(active_customers), 3) as churn_rate
from {{ ref('churn_summary_monthly') }}
group by as_of, segment
order by as_of, segment
