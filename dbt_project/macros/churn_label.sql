{#
  The churn label of a snapshot: 1 when the customer's next completed order
  (whenever it was loaded) is missing or not before the end of the label window,
  null while that window passes the data horizon.
#}
{% macro churn_label(spine, next_order_at) %}
    case
        when {{ spine }}.is_label_complete
            then cast(
                {{ next_order_at }} is null
                or {{ next_order_at }} >= {{ spine }}.label_window_end as integer
            )
    end
{%- endmacro %}

{# The completed orders a label looks at (every one, whenever it was loaded). #}
{% macro label_orders() %}
    select
        customer_key,
        ordered_at
    from {{ ref('int_orders_validated') }}
    where reject_reason is null and order_status = 'completed'
{%- endmacro %}
