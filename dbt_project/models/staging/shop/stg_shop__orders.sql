{{ require_contract_columns('orders') }}

with source as (
    select * from {{ source('shop', 'orders') }}
),

renamed as (
    select
        cast(order_id as varchar) as order_id,
        cast(customer_id as varchar) as customer_id,
        lower(trim(cast(status as varchar))) as order_status,
        cast(order_value as decimal(18, 2)) as order_value,
        cast(discount_amount as decimal(18, 2)) as discount_amount,
        cast(item_count as integer) as item_count,
        cast(ordered_at as timestamp) as ordered_at,
        cast(_loaded_at as timestamp) as loaded_at
    from source
),

deduplicated as (
    {{ deduplicate('renamed', 'order_id') }}
),

final as (
    select
        *,
        case
            when order_id is null then 'missing_event_id'
            when customer_id is null or customer_id = '' then 'missing_customer_id'
            when ordered_at is null or loaded_at is null then 'missing_timestamp'
            when ordered_at > loaded_at then 'future_timestamp'
            when
                order_status is null
                or order_status not in {{ accepted_values_sql('orders', 'status') }}
                then 'unknown_category'
            when
                order_value is null or discount_amount is null or item_count is null
                then 'missing_value'
            when order_value < 0 or discount_amount < 0 or item_count < 0 then 'negative_value'
            when
                order_value > {{ var('max_order_value') }}
                or item_count > {{ var('max_item_count') }}
                or discount_amount > order_value
                then 'absurd_value'
        end as row_reject_reason
    from deduplicated
)

select * from final
