{{ require_contract_columns('site_visits') }}

with source as (
    select
        *,
        {{ raw_rowid() }} as raw_rowid
    from {{ source('shop', 'site_visits') }}
),

renamed as (
    select
        {{ normalize_id('visit_id') }} as visit_id,
        {{ normalize_id('customer_id') }} as customer_id,
        lower(trim(cast(device as string))) as device,
        {{ as_double('page_views') }} as page_views,
        {{ as_double('session_seconds') }} as session_seconds,
        try_cast(visited_at as timestamp) as visited_at,
        try_cast(_loaded_at as timestamp) as loaded_at,
        raw_rowid
    from source
),

checked as (
    select
        *,
        case
            {{ event_row_checks('visit_id', 'visited_at') }}
            when
                device is null or device not in {{ accepted_values_sql('site_visits', 'device') }}
                then 'unknown_category'
            {{ number_checks(['page_views', 'session_seconds']) }}
            when
                page_views > {{ var('max_page_views') }}
                or session_seconds > {{ var('max_session_seconds') }}
                then 'absurd_value'
        end as row_reject_reason
    from renamed
),

final as (
    select
        {{ star_replace([
            ('page_views', as_count('page_views')),
            ('session_seconds', as_count('session_seconds')),
        ]) }}
    from checked
)

select * from final
