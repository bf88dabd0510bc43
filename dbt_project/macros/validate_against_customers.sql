{#
  A validated event model: the staging rows deduplicated (macro deduplicate),
  each with its row-level reject reason, else an unknown customer, else an
  event before the customer's sign-up, else a date isolated from the rest of
  its table (int_isolated_event_dates). Carries the customer's integer key so
  heavy aggregations do not group by strings.

  Incremental (docs/incremental.md): only the raw rows after the previous
  build's high-water mark are read. A new copy of a kept event only adds to
  the kept row's copies_loaded (the refresh plan rebuilds everything when a
  new copy sorts before the kept one); the other new rows are deduplicated
  among themselves and validated like any row. Rows are replaced by raw_rowid,
  so a rerun is idempotent.
#}
{% macro validate_against_customers(staging_model, id_column, event_time_column) %}
{% set table_name = staging_model.replace("stg_shop__", "") %}
with
{% if is_incremental() %}
    new_copies as (
        select * from {{ ref(staging_model) }}
        where raw_rowid > {{ refresh_high_water_mark(table_name) }}
    ),

    new_copies_per_id as (
        select
            {{ id_column }},
            count(*) as copies
        from new_copies
        where {{ id_column }} is not null
        group by {{ id_column }}
    ),

    -- Kept rows with new copies: the same row, with the new copies counted.
    recounted as (
        select kept.* replace (kept.copies_loaded + new_copies_per_id.copies as copies_loaded)
        from {{ this }} as kept
        inner join new_copies_per_id on kept.{{ id_column }} = new_copies_per_id.{{ id_column }}
    ),

    events as (
        select deduplicated.*
        from ({{ deduplicate('new_copies', id_column) }}) as deduplicated
        anti join recounted on deduplicated.{{ id_column }} = recounted.{{ id_column }}
    ),
{% else %}
    events as (
        {{ deduplicate(ref(staging_model), id_column) }}
    ),
{% endif %}

customers as (
    select * from {{ ref('stg_shop__customers') }}
    where reject_reason is null
),

isolated_dates as (
    select event_date from {{ ref('int_isolated_event_dates') }}
    where source_table = '{{ table_name }}'
),

validated as (
    select
        events.*,
        customers.customer_key,
        coalesce(
            events.row_reject_reason,
            case
                when customers.customer_id is null then 'unknown_customer_id'
                when events.{{ event_time_column }} < customers.signed_up_at
                    then 'event_before_signup'
                when isolated_dates.event_date is not null then 'isolated_timestamp'
            end
        ) as reject_reason
    from events
    left join customers on events.customer_id = customers.customer_id
    left join isolated_dates
        on cast(events.{{ event_time_column }} as date) = isolated_dates.event_date
),

final as (
    select * from validated
    {% if is_incremental() %}
        union all by name
        select * from recounted
    {% endif %}
)

select * from final
{% endmacro %}
