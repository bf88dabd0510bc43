{{ require_contract_columns('loyalty_events') }}

with source as (
    select * from {{ source('shop', 'loyalty_events') }}
),

renamed as (
    select
        cast(loyalty_event_id as varchar) as loyalty_event_id,
        cast(customer_id as varchar) as customer_id,
        lower(trim(cast(event_type as varchar))) as loyalty_event_type,
        cast(points as integer) as points,
        cast(occurred_at as timestamp) as occurred_at,
        cast(_loaded_at as timestamp) as loaded_at
    from source
),

deduplicated as (
    {{ deduplicate('renamed', 'loyalty_event_id') }}
),

final as (
    select
        *,
        case
            when loyalty_event_id is null then 'missing_event_id'
            when customer_id is null or customer_id = '' then 'missing_customer_id'
            when occurred_at is null or loaded_at is null then 'missing_timestamp'
            when occurred_at > loaded_at then 'future_timestamp'
            when
                loyalty_event_type is null
                or loyalty_event_type
                not in {{ accepted_values_sql('loyalty_events', 'event_type') }}
                then 'unknown_category'
            when points is null then 'missing_value'
            when points < 0 then 'negative_value'
            when points > {{ var('max_loyalty_points') }} then 'absurd_value'
        end as row_reject_reason
    from deduplicated
)

select * from final
