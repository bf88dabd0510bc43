{{ require_contract_columns('reviews') }}

with source as (
    select * from {{ source('shop', 'reviews') }}
),

renamed as (
    select
        cast(review_id as varchar) as review_id,
        cast(customer_id as varchar) as customer_id,
        cast(order_id as varchar) as order_id,
        cast(rating as integer) as rating,
        cast(reviewed_at as timestamp) as reviewed_at,
        cast(_loaded_at as timestamp) as loaded_at
    from source
),

deduplicated as (
    {{ deduplicate('renamed', 'review_id') }}
),

final as (
    select
        *,
        case
            when review_id is null then 'missing_event_id'
            when customer_id is null or customer_id = '' then 'missing_customer_id'
            when reviewed_at is null or loaded_at is null then 'missing_timestamp'
            when reviewed_at > loaded_at then 'future_timestamp'
            when rating is null then 'missing_value'
            when rating not between 1 and 5 then 'invalid_rating'
        end as row_reject_reason
    from deduplicated
)

select * from final
