{#
  Point-in-time totals of every measure of the feature catalog (macro
  feature_catalog) per customer, at every snapshot from the first one that
  sees any of their activity: <measure>_lifetime, <measure>_<w>d for the
  windows the catalog asks for, and the running extremes (first and last
  dates, latest rating) under the measure's own name.

  Lifetime: the activity buckets summed per snapshot that first sees them
  (seen_index); running sums over the snapshot index are then exactly
  "everything known before as_of".

  Windows: lifetime totals minus what has left the window. A bucket leaves
  window w at out_w_index, the first snapshot whose w-day window no longer
  covers it, or at seen_index when it only became known after that (a very
  late row), so that it never counts. What leaves is summed per snapshot, and
  its running sums are taken away from the lifetime ones. Each bucket is
  touched once per window, whatever the schedule (a difference array over
  snapshots); the first version paired every row with every snapshot whose
  window covered it.
#}
{{ catalog_check_generated_yaml() }}

{% set catalog = feature_catalog() %}
{% set additive = [] %}
{% set extremes = catalog_measures(catalog, additive=false) %}
{% set window_measures = {} %}
{% set left_columns = [] %}
{% set left_of = {} %}
{% for name, spec in catalog_measures(catalog, additive=true) %}
    {% set column = catalog_sum_column(name, spec) %}
    {% do additive.append((name, column)) %}
    {% for days in catalog_windows_of(catalog, name) %}
        {% do window_measures.setdefault(days, []).append(column) %}
        {% do left_columns.append(column ~ '_left_' ~ days ~ 'd') %}
        {% do left_of.update({column ~ '_left_' ~ days ~ 'd': (column, days)}) %}
    {% endfor %}
{% endfor %}

with spine as (
    select * from {{ ref('int_snapshots_to_build') }}
),

-- Both aggregations read the buckets table itself, not an import CTE: DuckDB
-- materialises a CTE used more than once, with every column.
added as (
    select
        customer_key,
        seen_index as snapshot_index,
        {% for name, column in additive %}
            {{ exact_sum(column) }} as {{ column }},
        {% endfor %}
        {% for name, spec in extremes %}
            {% if spec.aggregate == 'latest' %}
                max_by({{ name }}, {{ name }}_at) as {{ name }},
                max({{ name }}_at) as {{ name }}_at
            {%- else %}
                {{ spec.aggregate }}({{ name }}) as {{ name }}
            {%- endif %}
            {%- if not loop.last %},{% endif %}
        {% endfor %}
    from {{ ref('int_customer_activity_buckets') }}
    group by customer_key, seen_index
),

-- One part per window, on one column list: a part leaves the other windows'
-- columns null.
leaving as (
    {% for days, columns in window_measures | dictsort %}
        select
            customer_key,
            greatest(seen_index, out_{{ days }}_index) as snapshot_index,
            {% for column in left_columns %}
                {% set measure, left_days = left_of[column] %}
                {% if left_days == days %}
                    {{ measure }} as {{ column }}
                {%- else %}
                    cast(null as bigint) as {{ column }}
                {%- endif %}
                {%- if not loop.last %},{% endif %}
            {% endfor %}
        from {{ ref('int_customer_activity_buckets') }}
        where
            out_{{ days }}_index is not null
            and ({{ columns | join(' <> 0 or ') }} <> 0)
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

left_per_snapshot as (
    select
        customer_key,
        snapshot_index,
        {% for column in left_columns %}
            {{ exact_sum(column) }} as {{ column }}{% if not loop.last %},{% endif %}
        {% endfor %}
    from leaving
    group by customer_key, snapshot_index
),

-- Every (customer, snapshot) from the customer's first visible snapshot to
-- the last one, with what arrived and what left there (null: nothing).
grid as (
    select
        first_seen.customer_key,
        spine.snapshot_index,
        spine.as_of,
        {% for name, column in additive %}
            added.{{ column }},
        {% endfor %}
        {% for name, spec in extremes %}
            added.{{ name }},
            {% if spec.aggregate == 'latest' %}added.{{ name }}_at,{% endif %}
        {% endfor %}
        {% for column in left_columns %}
            left_per_snapshot.{{ column }}{% if not loop.last %},{% endif %}
        {% endfor %}
    from (
        select
            arrivals.customer_key,
            min(arrivals.snapshot_index) as first_snapshot_index
        from added as arrivals
        group by arrivals.customer_key
    ) as first_seen
    inner join spine on first_seen.first_snapshot_index <= spine.snapshot_index
    left join added
        on
            first_seen.customer_key = added.customer_key
            and spine.snapshot_index = added.snapshot_index
    left join left_per_snapshot
        on
            first_seen.customer_key = left_per_snapshot.customer_key
            and spine.snapshot_index = left_per_snapshot.snapshot_index
),

running as (
    select
        customer_key,
        snapshot_index,
        as_of,
        {% for name, column in additive %}
            coalesce(sum({{ column }}) over known_so_far, 0) as {{ column }},
        {% endfor %}
        {% for column in left_columns %}
            coalesce(sum({{ column }}) over known_so_far, 0) as {{ column }},
        {% endfor %}
        {% for name, spec in extremes %}
            {% if spec.aggregate == 'latest' %}
                max_by({{ name }}, {{ name }}_at) over known_so_far as {{ name }}
            {%- else %}
                {{ spec.aggregate }}({{ name }}) over known_so_far as {{ name }}
            {%- endif %}
            {%- if not loop.last %},{% endif %}
        {% endfor %}
    from grid
    window known_so_far as (
        partition by customer_key
        order by snapshot_index
        rows between unbounded preceding and current row
    )
),

final as (
    select
        customer_key,
        snapshot_index,
        as_of,
        {% for name, column in additive %}
            {{ from_exact_sum(column, column) }} as {{ catalog_total_name(catalog, name) }},
            {% for days in catalog_windows_of(catalog, name) %}
                {{ from_exact_sum(column ~ ' - ' ~ column ~ '_left_' ~ days ~ 'd', column) }}
                    as {{ catalog_total_name(catalog, name, days) }},
            {% endfor %}
        {% endfor %}
        {% for name, spec in extremes %}
            {{ name }}{% if not loop.last %},{% endif %}
        {% endfor %}
    from running
)

select * from final
