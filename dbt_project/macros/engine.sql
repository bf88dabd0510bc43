{#
  SQL that DuckDB and Spark spell differently, one macro each, dispatched on
  the adapter (default: DuckDB's spelling; spark__: Spark's). Models call these
  and stay one text for both engines (docs/spark.md).
#}

{# `select <this> from t`: every column of t, some replaced by an expression
   (pairs of column, expression). DuckDB keeps each column in its place; Spark
   has no REPLACE and puts the replaced columns last (read by name). #}
{% macro star_replace(replacements) -%}
    {{ return(adapter.dispatch('star_replace', 'churn')(replacements)) }}
{%- endmacro %}

{% macro default__star_replace(replacements) -%}
    * replace (
    {%- for column, expression in replacements %}
        {{ expression }} as {{ column }}{% if not loop.last %},{% endif %}
    {%- endfor %}
    )
{%- endmacro %}

{% macro spark__star_replace(replacements) -%}
    * except ({{ replacements | map('first') | join(', ') }}),
    {%- for column, expression in replacements %}
        {{ expression }} as {{ column }}{% if not loop.last %},{% endif %}
    {%- endfor %}
{%- endmacro %}

{# True for a finite double, false for NaN and infinities, null for null. #}
{% macro is_finite(expression) -%}
    {{ return(adapter.dispatch('is_finite', 'churn')(expression)) }}
{%- endmacro %}

{% macro default__is_finite(expression) -%}
    isfinite({{ expression }})
{%- endmacro %}

{% macro spark__is_finite(expression) -%}
    (not isnan({{ expression }}) and abs({{ expression }}) != double('inf'))
{%- endmacro %}

{# is_finite of every column, and-ed. #}
{% macro all_finite(columns) -%}
    {%- set finite = [] -%}
    {%- for column in columns -%}
        {%- do finite.append(is_finite(column)) -%}
    {%- endfor -%}
    {{ return(finite | join(' and ')) }}
{%- endmacro %}

{# Fails the query with `message` (a string expression) when evaluated. #}
{% macro raise_error(message) -%}
    {{ return(adapter.dispatch('raise_error', 'churn')(message)) }}
{%- endmacro %}

{% macro default__raise_error(message) -%}
    error({{ message }})
{%- endmacro %}

{% macro spark__raise_error(message) -%}
    raise_error({{ message }})
{%- endmacro %}

{# A from-clause item following one relation: a row per timestamp from `start`
   to `stop` by `step` (an interval literal) for each of its rows, as
   `alias`.`column`. #}
{% macro timestamp_series(start, stop, step, alias, column) -%}
    {{ return(adapter.dispatch('timestamp_series', 'churn')(start, stop, step, alias, column)) }}
{%- endmacro %}

{% macro default__timestamp_series(start, stop, step, alias, column) -%}
    cross join generate_series({{ start }}, {{ stop }}, {{ step }}) as {{ alias }} ({{ column }})
{%- endmacro %}

{# Spark's sequence fails when start > stop; generate_series is then empty. #}
{% macro spark__timestamp_series(start, stop, step, alias, column) -%}
    lateral view explode(
        case when {{ start }} <= {{ stop }} then sequence({{ start }}, {{ stop }}, {{ step }}) end
    ) {{ alias }} as {{ column }}
{%- endmacro %}

{# A query of the first event at or after each snapshot row, per key:
   (`key`, snapshot_index, `next_column`) for every row of `snapshots` (which
   has `key`, snapshot_index and as_of), from `events` (`key`, `event_time`);
   null when there is none. DuckDB: an as-of join. Spark has none: the
   snapshot rows and the events in one time line per key, and the earliest
   event at or after each snapshot row (an event at as_of itself counts). #}
{% macro next_event(snapshots, events, key, event_time, next_column) -%}
    {{ return(adapter.dispatch('next_event', 'churn')(snapshots, events, key, event_time, next_column)) }}
{%- endmacro %}

{% macro default__next_event(snapshots, events, key, event_time, next_column) -%}
    select
        {{ snapshots }}.{{ key }},
        {{ snapshots }}.snapshot_index,
        {{ events }}.{{ event_time }} as {{ next_column }}
    from {{ snapshots }}
    asof left join {{ events }}
        on
            {{ snapshots }}.{{ key }} = {{ events }}.{{ key }}
            and {{ snapshots }}.as_of <= {{ events }}.{{ event_time }}
{%- endmacro %}

{% macro spark__next_event(snapshots, events, key, event_time, next_column) -%}
    select
        {{ key }},
        snapshot_index,
        {{ next_column }}
    from (
        select
            {{ key }},
            snapshot_index,
            min(event_time) over (
                partition by {{ key }}
                order by moment, is_event
                rows between current row and unbounded following
            ) as {{ next_column }}
        from (
            select
                {{ key }},
                snapshot_index,
                cast(as_of as timestamp) as moment,
                0 as is_event,
                cast(null as timestamp) as event_time
            from {{ snapshots }}
            union all
            select
                {{ key }},
                cast(null as integer) as snapshot_index,
                {{ event_time }} as moment,
                1 as is_event,
                {{ event_time }} as event_time
            from {{ events }}
        ) as time_line
    ) as nexts
    where snapshot_index is not null
{%- endmacro %}

{# The materialization of a model an incremental refresh appends to: incremental
   on DuckDB; a table on Spark, which rebuilds in full (refresh_plan). #}
{% macro incremental_on_duckdb() -%}
    {{ return('table' if is_spark() else 'incremental') }}
{%- endmacro %}

{# The target is a Spark engine (dbt-spark, or dbt-databricks, whose dispatch
   falls back to the spark__ macros). #}
{% macro is_spark() -%}
    {{ return(target.type in ['spark', 'databricks']) }}
{%- endmacro %}
