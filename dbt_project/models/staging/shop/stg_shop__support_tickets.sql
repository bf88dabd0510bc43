{{ require_contract_columns('support_tickets') }}

with source as (
    select * from {{ source('shop', 'support_tickets') }}
),

renamed as (
    select
        cast(ticket_id as varchar) as ticket_id,
        cast(customer_id as varchar) as customer_id,
        lower(trim(cast(category as varchar))) as ticket_category,
        cast(opened_at as timestamp) as opened_at,
        cast(_loaded_at as timestamp) as loaded_at
    from source
),

deduplicated as (
    {{ deduplicate('renamed', 'ticket_id') }}
),

final as (
    select
        *,
        case
            when ticket_id is null then 'missing_event_id'
            when customer_id is null or customer_id = '' then 'missing_customer_id'
            when opened_at is null or loaded_at is null then 'missing_timestamp'
            when opened_at > loaded_at then 'future_timestamp'
            when
                ticket_category is null
                or ticket_category not in {{ accepted_values_sql('support_tickets', 'category') }}
                then 'unknown_category'
        end as row_reject_reason
    from deduplicated
)

select * from final
