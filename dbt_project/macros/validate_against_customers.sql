{#
  Final validation of an event staging model: its row-level reject reason, else
  an unknown customer, else an event before the customer's sign-up, else a
  date isolated from the rest of its table (int_isolated_event_dates). Carries
  the customer's integer key so heavy aggregations do not group by strings.
#}
{% macro validate_against_customers(staging_model, event_time_column) %}
    with events as (
        select * from {{ ref(staging_model) }}
    ),

    customers as (
        select * from {{ ref('stg_shop__customers') }}
        where reject_reason is null
    ),

    isolated_dates as (
        select event_date from {{ ref('int_isolated_event_dates') }}
        where source_table = '{{ staging_model.replace("stg_shop__", "") }}'
    ),

    final as (
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
    )

    select * from final
{% endmacro %}
