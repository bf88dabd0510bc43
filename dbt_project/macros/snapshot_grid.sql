{#
  Every (customer, snapshot) from the first snapshot at which the customer has
  a row in `per_snapshot` to the last snapshot, with that row's measures (null
  where nothing new arrived): the rows that running totals over the snapshot
  index fill in. Sum them over `window known_so_far as ({{ known_so_far() }})`.
#}
{% macro snapshot_grid(per_snapshot, spine) %}
    select
        grid.customer_key,
        grid.snapshot_index,
        grid.as_of,
        activity.* exclude (customer_key, snapshot_index)
    from (
        select
            first_seen.customer_key,
            {{ spine }}.snapshot_index,
            {{ spine }}.as_of
        from (
            select
                customer_key,
                min(snapshot_index) as first_snapshot_index
            from {{ per_snapshot }}
            group by customer_key
        ) as first_seen
        inner join {{ spine }} on first_seen.first_snapshot_index <= {{ spine }}.snapshot_index
    ) as grid
    left join {{ per_snapshot }} as activity
        on
            grid.customer_key = activity.customer_key
            and grid.snapshot_index = activity.snapshot_index
{% endmacro %}

{# Everything up to and including the current snapshot, per customer. #}
{% macro known_so_far() %}
    partition by customer_key
    order by snapshot_index
    rows between unbounded preceding and current row
{% endmacro %}
