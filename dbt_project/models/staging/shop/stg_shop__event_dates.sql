{#
  The date of every raw event row of every event source, for the detection of
  isolated dates (int_isolated_event_dates). A projection of one column per
  source, so scanning it costs a column scan, not the deduplication of the
  other staging views.
#}

{% set sources = [
    ('orders', 'ordered_at'),
    ('site_visits', 'visited_at'),
    ('loyalty_events', 'occurred_at'),
    ('reviews', 'reviewed_at'),
    ('support_tickets', 'opened_at'),
] %}

with final as (
    {% for table, time_column in sources %}
        select
            '{{ table }}' as source_table,
            cast(try_cast({{ time_column }} as timestamp) as date) as event_date
        from {{ source('shop', table) }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select * from final
