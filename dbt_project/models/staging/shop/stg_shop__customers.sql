{{ require_contract_columns('customers') }}

with source as (
    select
        *,
        {{ raw_rowid() }} as raw_rowid
    from {{ source('shop', 'customers') }}
),

renamed as (
    select
        {{ normalize_id('customer_id') }} as customer_id,
        coalesce(lower(trim(cast(segment as string))), 'unknown') as segment,
        coalesce(lower(trim(cast(acquisition_channel as string))), 'unknown')
            as acquisition_channel,
        coalesce(upper(trim(cast(country as string))), 'unknown') as country,
        try_cast(signup_at as timestamp) as signed_up_at,
        try_cast(_loaded_at as timestamp) as loaded_at,
        raw_rowid
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

keys as (
    select * from {{ ref('stg_shop__customer_keys') }}
),

final as (
    select
        -- integer surrogate key (stg_shop__customer_keys): lets large
        -- aggregations avoid grouping by strings
        case when validated.reject_reason is null then keys.customer_key end as customer_key,
        validated.*
    from validated
    left join keys on validated.customer_id = keys.customer_id
)

select * from final
