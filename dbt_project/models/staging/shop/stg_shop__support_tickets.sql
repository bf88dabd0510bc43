{{ require_contract_columns('support_tickets') }}

with source as (
    select
        *,
        {{ raw_rowid() }} as raw_rowid
    from {{ source('shop', 'support_tickets') }}
),

renamed as (
    select
        {{ normalize_id('ticket_id') }} as ticket_id,
        {{ normalize_id('customer_id') }} as customer_id,
        lower(trim(cast(category as string))) as ticket_category,
        try_cast(opened_at as timestamp) as opened_at,
        try_cast(_loaded_at as timestamp) as loaded_at,
        raw_rowid
    from source
),

final as (
    select
        *,
        case
            {{ event_row_checks('ticket_id', 'opened_at') }}
            when
                ticket_category is null
                or ticket_category not in {{ accepted_values_sql('support_tickets', 'category') }}
                then 'unknown_category'
        end as row_reject_reason
    from renamed
)

select * from final
