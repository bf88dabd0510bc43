{{ require_contract_columns('reviews') }}

with source as (
    select
        *,
        {{ raw_rowid() }} as raw_rowid
    from {{ source('shop', 'reviews') }}
),

renamed as (
    select
        {{ normalize_id('review_id') }} as review_id,
        {{ normalize_id('customer_id') }} as customer_id,
        {{ normalize_id('order_id') }} as order_id,
        {{ as_double('rating') }} as rating,
        try_cast(reviewed_at as timestamp) as reviewed_at,
        try_cast(_loaded_at as timestamp) as loaded_at,
        raw_rowid
    from source
),

checked as (
    select
        *,
        case
            {{ event_row_checks('review_id', 'reviewed_at') }}
            when rating is null then 'missing_value'
            when not {{ is_finite('rating') }} then 'non_finite_value'
            when rating not between 1 and 5 then 'invalid_rating'
        end as row_reject_reason
    from renamed
),

final as (
    select {{ star_replace([('rating', as_count('rating'))]) }}
    from checked
)

select * from final
