{#
  Every raw row that failed validation, with the reason, so nothing is lost
  silently. Duplicates are not here: deduplication keeps one copy and counts
  the others (copies_loaded in staging).
#}

{% set sources = [
    ('customers', 'stg_shop__customers', 'customer_id', 'signed_up_at'),
    ('orders', 'int_orders_validated', 'order_id', 'ordered_at'),
    ('site_visits', 'int_site_visits_validated', 'visit_id', 'visited_at'),
    ('loyalty_events', 'int_loyalty_events_validated', 'loyalty_event_id', 'occurred_at'),
    ('reviews', 'int_reviews_validated', 'review_id', 'reviewed_at'),
    ('support_tickets', 'int_support_tickets_validated', 'ticket_id', 'opened_at'),
] %}

with rejected as (
    {% for table, model, id_column, time_column in sources %}
        select
            '{{ table }}' as source_table,
            {{ id_column }} as row_id,
            customer_id,
            reject_reason,
            {{ time_column }} as event_at,
            loaded_at
        from {{ ref(model) }}
        where reject_reason is not null
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

final as (
    select * from rejected
)

select * from final
