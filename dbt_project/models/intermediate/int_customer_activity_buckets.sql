{#
  Valid events of every source aggregated per customer and place on the
  snapshot axis (macros snapshot_place_columns and snapshot_place_joins): the
  snapshot that first sees them and, for each feature window, the first
  snapshot whose window no longer covers them. Every measure of the feature
  catalog (macro feature_catalog) is one column here; every snapshot total is
  computed from this table (int_customer_totals_by_snapshot), never from raw
  events: lifetime totals are running sums of what each snapshot first sees,
  window totals are lifetime totals minus what has left the window.

  Events with the same placement are interchangeable for every measure, so
  this is far fewer rows than events (or days: most customers do not come
  back the same day).

  Each source is aggregated on its own, with only its own measures, and the
  results are stacked: one wide aggregation over all sources would hold every
  measure's state for every group. Sums are exact (macro exact_sum; money in
  integer cents), so they do not depend on the order DuckDB's threads add rows
  in and a rebuild gives bit-identical features.

  The validated events are read where they are aggregated, not through import
  CTEs: DuckDB materialises a CTE used more than once, with every column.

  A count_distinct_days measure counts each (customer, day) once: its events
  are first reduced to one row per day, known from its first-known event, and
  those days are placed and counted like events, as event_source
  <source>.<measure>.
#}
{{ catalog_check_generated_yaml() }}

{% set catalog = feature_catalog() %}
{% set windows = catalog_windows(catalog) %}
{#- Per source, its measures aggregated per event; the distinct-day counts
    apart; every additive column, to fill in. -#}
{% set per_event = {} %}
{% set daily = [] %}
{% set additive_columns = [] %}
{% for name, measure in catalog_measures(catalog) %}
    {% set distinct_days = measure.aggregate == 'count_distinct_days' %}
    {% do (daily if distinct_days else per_event.setdefault(measure.source, [])).append((name, measure)) %}
    {% if catalog_is_additive(measure) %}
        {% do additive_columns.append(catalog_sum_column(name, measure)) %}
    {% endif %}
{% endfor %}
{% set parts = [] %}
{#- Each part's measure columns, and all of them in order: the parts are stacked
    on one column list, each filling the others' measures with null. -#}
{% set part_columns = {} %}
{% set measure_columns = [] %}

with spine as (
    select * from {{ ref('int_snapshots_to_build') }}
),

days as (
    -- Every day from (the longest window + 1 day) before the first as_of to the
    -- last as_of. A few hundred rows.
    select cast(series.day as date) as calendar_day
    from (
        select
            min(as_of) as first_as_of,
            max(as_of) as last_as_of
        from spine
    ) as bounds
    {{ timestamp_series(
        'cast(' ~ dbt.dateadd('day', -1 - windows | max, 'bounds.first_as_of') ~ ' as timestamp)',
        'cast(bounds.last_as_of as timestamp)',
        'interval 1 day',
        'series',
        'day',
    ) }}
),

calendar as (
    -- Each day with the first snapshot strictly after it (the smallest index of
    -- the later ones), so placing tens of millions of events is an equality
    -- lookup, not an as-of or range join. Days on or after the last as_of have
    -- no row.
    select
        days.calendar_day,
        min(next_snapshot.snapshot_index) as next_snapshot_index
    from days
    inner join spine as next_snapshot on days.calendar_day < next_snapshot.as_of
    group by days.calendar_day
),

{% for source, measures in per_event.items() %}
    {% set spec = catalog.event_sources[source] %}
    {% do parts.append(source ~ '_buckets') %}
    {% do part_columns.update({source ~ '_buckets': []}) %}
    {#- (aggregate, column): a `latest` measure also needs the time of its latest event. -#}
    {% set aggregates = [] %}
    {% for name, measure in measures %}
        {% set event_time = 'events.' ~ spec.event_time %}
        {% do aggregates.append((
            catalog_aggregate(name, measure, event_time), catalog_sum_column(name, measure)
        )) %}
        {% do part_columns[source ~ '_buckets'].append(catalog_sum_column(name, measure)) %}
        {% if measure.aggregate == 'latest' %}
            {% do aggregates.append((
                'max(' ~ event_time ~ ') filter (where ' ~ measure.get('where', 'true') ~ ')',
                name ~ '_at'
            )) %}
            {% do part_columns[source ~ '_buckets'].append(name ~ '_at') %}
        {% endif %}
    {% endfor %}

    {{ source }}_buckets as (
        select
            events.customer_key,
            '{{ source }}' as event_source,
            {{ snapshot_place_columns(windows) }}
            {% for aggregate, column in aggregates %}
                {{ aggregate }} as {{ column }}{% if not loop.last %},{% endif %}
            {% endfor %}
        from {{ ref(spec.model) }} as events
        {{ snapshot_place_joins('events', spec.event_time, 'calendar', windows) }}
        where events.reject_reason is null
        group by all
    ),
{% endfor %}

{% for name, measure in daily %}
    {% set spec = catalog.event_sources[measure.source] %}
    {% do parts.append(name ~ '_buckets') %}
    {% do part_columns.update({name ~ '_buckets': [name]}) %}
    {{ name }}_days as (
        select
            customer_key,
            cast(cast({{ spec.event_time }} as date) as timestamp) as {{ spec.event_time }},
            min(greatest({{ spec.event_time }}, loaded_at)) as loaded_at
        from {{ ref(spec.model) }}
        where reject_reason is null and ({{ measure.get('where', 'true') }})
        group by all
    ),

    {{ name }}_buckets as (
        select
            events.customer_key,
            '{{ measure.source }}.{{ name }}' as event_source,
            {{ snapshot_place_columns(windows) }}
            count(*) as {{ name }}
        from {{ name }}_days as events
        {{ snapshot_place_joins('events', spec.event_time, 'calendar', windows) }}
        group by all
    ),
{% endfor %}

{% for part in parts %}
    {% for column in part_columns[part] if column not in measure_columns %}
        {% do measure_columns.append(column) %}
    {% endfor %}
{% endfor %}

final as (
    -- Each source leaves the other sources' measures null: additive ones are 0.
    {% for part in parts %}
        select
            customer_key,
            event_source,
            seen_index,
            {% for days in windows %}
                out_{{ days }}_index,
            {% endfor %}
            {% for column in measure_columns %}
                {% set value = column if column in part_columns[part] else 'null' %}
                {% if column in additive_columns %}
                    cast(coalesce({{ value }}, 0) as bigint) as {{ column }}
                {%- else %}
                    {{ value }} as {{ column }}
                {%- endif %}
                {%- if not loop.last %},{% endif %}
            {% endfor %}
        from {{ part }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select * from final
