{#
  Every (customer, snapshot) from the first snapshot at which the customer has
  a row in `per_snapshot` to the last snapshot: the rows that running sums over
  the snapshot index fill in, including snapshots without new activity.
#}
{% macro snapshot_grid(per_snapshot, spine) %}
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
{% endmacro %}
