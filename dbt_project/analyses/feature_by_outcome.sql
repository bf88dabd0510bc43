-- How one feature is distributed for customers who churned versus those who
-- stayed, over all labeled snapshots (change the column to explore another).
select
    case churned when 1 then 'churned' else 'retained' end as outcome,
    count(*) as snapshots,
    round(avg(purchase_overdue_ratio), 2) as mean,
    round(quantile_cont(purchase_overdue_ratio, 0.25), 2) as p25,
    round(median(purchase_overdue_ratio), 2) as median,
    round(quantile_cont(purchase_overdue_ratio, 0.75), 2) as p75
from {{ ref('customer_snapshots') }}
where churned is not null
group by outcome
order by outcome
