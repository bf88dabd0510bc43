{{ require_contract_columns('orders') }}

with source as (
    select
        *,
        {{ raw_rowid() }} as raw_rowid
    from {{ source('shop', 'orders') }}
),

renamed as (
    select
        {{ normalize_id('order_id') }} as order_id,
        {{ normalize_id('customer_id') }} as customer_id,
        lower(trim(cast(status as string))) as order_status,
        {{ as_double('order_value') }} as order_value,
        {{ as_double('discount_amount') }} as discount_amount,
        {{ as_double('item_count') }} as item_count,
        try_cast(ordered_at as timestamp) as ordered_at,
        try_cast(_loaded_at as timestamp) as loaded_at,
        raw_rowid
    from source
),

checked as (
    select
        *,
        case
            {{ event_row_checks('order_id', 'ordered_at') }}
            when
                order_status is null
                or order_status not in {{ accepted_values_sql('orders', 'status') }}
                then 'unknown_category'
            {{ number_checks(['order_value', 'discount_amount', 'item_count']) }}
            when
                order_value > {{ var('max_order_value') }}
                or item_count > {{ var('max_item_count') }}
                or discount_amount > order_value
                then 'absurd_value'
        end as row_reject_reason
    from renamed
),

final as (
    select
        {{ star_replace([
            ('order_value', as_amount('order_value')),
            ('discount_amount', as_amount('discount_amount')),
            ('item_count', as_count('item_count')),
        ]) }}
    from checked
)

select * from final
