{{ require_contract_columns('site_visits') }}

with source as (
    select * from {{ source('shop', 'site_visits') }}
),

renamed as (
    select
        cast(visit_id as varchar) as visit_id,
        cast(customer_id as varchar) as customer_id,
        lower(trim(cast(device as varchar))) as device,
        cast(page_views as integer) as page_views,
        cast(session_seconds as integer) as session_seconds,
        cast(visited_at as timestamp) as visited_at,
        cast(_loaded_at as timestamp) as loaded_at
    from source
),

deduplicated as (
    {{ deduplicate('renamed', 'visit_id') }}
),

final as (
    select
        *,
        case
            when visit_id is null then 'missing_event_id'
            when customer_id is null or customer_id = '' then 'missing_customer_id'
            when visited_at is null or loaded_at is null then 'missing_timestamp'
            when visited_at > loaded_at then 'future_timestamp'
            when
                device is null or device not in {{ accepted_values_sql('site_visits', 'device') }}
                then 'unknown_category'
            when page_views is null or session_seconds is null then 'missing_value'
            when page_views < 0 or session_seconds < 0 then 'negative_value'
            when
                page_views > {{ var('max_page_views') }}
                or session_seconds > {{ var('max_session_seconds') }}
                then 'absurd_value'
        end as row_reject_reason
    from deduplicated
)

select * from final
