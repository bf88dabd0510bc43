{{ require_contract_columns('customers') }}

with source as (
    select * from {{ source('shop', 'customers') }}
),

renamed as (
    select
        {{ normalize_id('customer_id') }} as customer_id,
        coalesce(lower(trim(cast(segment as varchar))), 'unknown') as segment,
        coalesce(lower(trim(cast(acquisition_channel as varchar))), 'unknown')
            as acquisition_channel,
        coalesce(upper(trim(cast(country as varchar))), 'unknown') as country,
        try_cast(signup_at as timestamp) as signed_up_at,
        try_cast(_loaded_at as timestamp) as loaded_at
    from source
),

deduplicated as (
    {{ deduplicate('renamed', 'customer_id') }}
),

validated as (
    select
        *,
        case
            when customer_id is null then 'missing_customer_id'
            when length(customer_id) > {{ var('max_id_length') }} then 'invalid_id'
            when signed_up_at is null or loaded_at is null then 'missing_timestamp'
            when
                signed_up_at < {{ var_literal('earliest_event_date', 'timestamp') }}
                or loaded_at < {{ var_literal('earliest_event_date', 'timestamp') }}
                then 'timestamp_out_of_range'
            when signed_up_at > loaded_at then 'future_timestamp'
        end as reject_reason
    from deduplicated
),

final as (
    select
        -- integer surrogate key: lets large aggregations avoid grouping by strings
        case
            when reject_reason is null
                then row_number() over (
                    partition by reject_reason is null order by customer_id
                )
        end as customer_key,
        *
    from validated
)

select * from final
