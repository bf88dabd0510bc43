{#
  Today's churn risk per customer for analysts and retention teams: the latest
  scores (latest as_of, and for it the latest scoring run) joined with the
  customer table. A view, so new scores show up without rebuilding.
#}
{{ config(materialized='view') }}

with scores as (
    select * from {{ source('scoring', 'churn_scores') }}
    qualify row_number() over (
        partition by customer_id order by as_of desc, scored_at desc
    ) = 1
),

customers as (
    select * from {{ ref('dim_customers') }}
),

final as (
    select
        scores.customer_id,
        scores.as_of,
        scores.churn_probability,
        scores.risk_decile,
        scores.customer_value,
        scores.expected_value_of_contact,
        scores.recommended_action,
        customers.segment,
        customers.acquisition_channel,
        customers.country,
        customers.revenue_180d,
        customers.days_since_last_order,
        customers.purchase_overdue_ratio,
        customers.is_loyalty_member,
        scores.model_name,
        scores.model_version,
        scores.scored_at
    from scores
    inner join customers on scores.customer_id = customers.customer_id
)

select * from final
