{{ require_contract_columns('loyalty_events') }}

with source as (
    select
        *,
        {{ raw_rowid() }} as raw_rowid
    from {{ source('shop', 'loyalty_events') }}
),

renamed as (
    select
        {{ normalize_id('loyalty_event_id') }} as loyalty_event_id,
        {{ normalize_id('customer_id') }} as customer_id,
        lower(trim(cast(event_type as string))) as loyalty_event_type,
        {{ as_double('points') }} as points,
        try_cast(occurred_at as timestamp) as occurred_at,
        try_cast(_loaded_at as timestamp) as loaded_at,
        raw_rowid
    from source
),

checked as (
    select
        *,
        case
            {{ event_row_checks('loyalty_event_id', 'occurred_at') }}
            when
                loyalty_event_type is null
                or loyalty_event_type
                not in {{ accepted_values_sql('loyalty_events', 'event_type') }}
                then 'unknown_category'
            {{ number_checks(['points']) }}
            when points > {{ var('max_loyalty_points') }} then 'absurd_value'
        end as row_reject_reason
    from renamed
),

final as (
    select {{ star_replace([('points', as_count('points'))]) }}
    from checked
)

select * from final
