{#
  The integer surrogate key of every customer id (normalised) of the raw
  customers, assigned once and kept: the validated events carry it, and an
  incremental refresh appends events without revisiting the ones it keeps, so a
  key must never change when new customers arrive. A full rebuild numbers the
  ids in order; a refresh numbers the new ids after the highest key.
#}
{{ config(materialized=incremental_on_duckdb(), unique_key='customer_id') }}

with source as (
    select
        {{ normalize_id('customer_id') }} as customer_id
    from {{ source('shop', 'customers') }}
    {% if is_incremental() %}
        where {{ raw_rowid() }} > {{ refresh_high_water_mark('customers') }}
    {% endif %}
),

ids as (
    select distinct customer_id
    from source
    where customer_id is not null
),

new_ids as (
    select ids.* from ids
    {% if is_incremental() %}
        anti join {{ this }} as known on ids.customer_id = known.customer_id
    {% endif %}
),

final as (
    select
        customer_id,
        {% if is_incremental() %}
            (select coalesce(max(known.customer_key), 0) from {{ this }} as known)
            +
        {% endif %}
        row_number() over (order by customer_id) as customer_key
    from new_ids
)

select * from final
