{#
  Lookups over the feature catalog for the models it shapes. Each model parses
  the catalog once (`{% set catalog = feature_catalog() %}`) and passes it in:
  parsing it in every lookup cost about a second of compile time per model.
  featurestore.catalog validates the catalog fully (make catalog, make test);
  these raise a compiler error naming the entry when a lookup cannot be
  answered, so a typo never becomes wrong SQL.
#}

{% macro catalog_fail(message) %}
    {{ exceptions.raise_compiler_error('feature catalog (macros/feature_catalog.sql): ' ~ message) }}
{% endmacro %}

{# Additive measures are summed over time (lifetime and windows); the others
   (min, max, latest) are running extremes, lifetime only. #}
{% macro catalog_is_additive(spec) %}
    {{ return(spec.aggregate in ['count', 'sum', 'count_distinct_days']) }}
{% endmacro %}

{# The measures, as (name, spec) pairs in catalog order; `additive` filters on
   catalog_is_additive when given. #}
{% macro catalog_measures(catalog, additive=none) %}
    {% set found = [] %}
    {% for name, spec in catalog.measures.items() %}
        {% if spec.source not in catalog.event_sources %}
            {{ catalog_fail('measure ' ~ name ~ ': unknown source ' ~ spec.source) }}
        {% endif %}
        {% if spec.aggregate not in ['count', 'sum', 'count_distinct_days', 'min', 'max', 'latest'] %}
            {{ catalog_fail('measure ' ~ name ~ ': unknown aggregate ' ~ spec.aggregate) }}
        {% endif %}
        {% if additive is none or catalog_is_additive(spec) == additive %}
            {% do found.append((name, spec)) %}
        {% endif %}
    {% endfor %}
    {{ return(found) }}
{% endmacro %}

{# The windows (days) of one additive measure's totals: those the mart columns
   ask for and the measure's own `windows`, ascending. #}
{% macro catalog_windows_of(catalog, name) %}
    {% set windows = [] %}
    {% for days in catalog.measures[name].get('windows', []) %}
        {% do windows.append(days) %}
    {% endfor %}
    {% for column in catalog.columns if column.get('measure') == name %}
        {% if column.get('window', 'lifetime') != 'lifetime' %}
            {% do windows.append(column.window) %}
        {% endif %}
    {% endfor %}
    {{ return(windows | unique | sort) }}
{% endmacro %}

{# Every feature window of the catalog (days), ascending: the placements the
   activity buckets carry. #}
{% macro catalog_windows(catalog) %}
    {% set windows = [] %}
    {% for name, spec in catalog_measures(catalog, additive=true) %}
        {% for days in catalog_windows_of(catalog, name) %}
            {% do windows.append(days) %}
        {% endfor %}
    {% endfor %}
    {{ return(windows | unique | sort) }}
{% endmacro %}

{# The name of a measure's total: <measure>_lifetime, <measure>_<w>d, or the
   measure's own name for a running extreme (min, max, latest). #}
{% macro catalog_total_name(catalog, name, window='lifetime') %}
    {% set spec = catalog.measures.get(name) %}
    {% if spec is none %}
        {{ catalog_fail('no measure named ' ~ name) }}
    {% elif not catalog_is_additive(spec) %}
        {{ return(name) }}
    {% elif window == 'lifetime' %}
        {{ return(name ~ '_lifetime') }}
    {% else %}
        {{ return(name ~ '_' ~ window ~ 'd') }}
    {% endif %}
{% endmacro %}

{# The mart columns copied from the totals model (those with a measure). #}
{% macro catalog_total_columns(catalog) %}
    {% set found = [] %}
    {% for column in catalog.columns if column.get('measure') %}
        {% set total = catalog_total_name(catalog, column.measure, column.get('window', 'lifetime')) %}
        {% if total != column.name %}
            {{ catalog_fail('column ' ~ column.name ~ ' must be named ' ~ total
                ~ ' (measure ' ~ column.measure ~ ', window ' ~ column.get('window', 'lifetime') ~ ')') }}
        {% endif %}
        {% do found.append(column.name) %}
    {% endfor %}
    {{ return(found) }}
{% endmacro %}

{# The column an additive measure has in the buckets and the totals' running
   sums: money is held in integer cents (macro exact_sum), so <measure>_cents. #}
{% macro catalog_sum_column(name, spec) %}
    {{ return(name ~ '_cents' if spec.get('unit') == 'money' else name) }}
{% endmacro %}

{# The aggregate of one measure over a source's events (aliased `events` or
   unqualified), with its `where` as a filter. A `latest` measure also needs
   the time of its latest event, aggregated as <measure>_at. #}
{% macro catalog_aggregate(name, spec, event_time) %}
    {%- set expression = spec.get('expression') -%}
    {%- if spec.aggregate == 'count' -%}
        {%- set aggregate = 'count(*)' -%}
    {%- elif spec.aggregate == 'sum' -%}
        {%- set aggregate = exact_sum(expression ~ (' * 100' if spec.get('unit') == 'money' else '')) -%}
    {%- elif spec.aggregate in ['min', 'max'] -%}
        {%- set aggregate = spec.aggregate ~ '(' ~ expression ~ ')' -%}
    {%- elif spec.aggregate == 'latest' -%}
        {%- set aggregate = 'max_by(' ~ expression ~ ', ' ~ event_time ~ ')' -%}
    {%- else -%}
        {{ catalog_fail('measure ' ~ name ~ ': ' ~ spec.aggregate ~ ' has no plain aggregate') }}
    {%- endif -%}
    {{ aggregate }}{% if spec.get('where') %} filter (where {{ spec.where }}){% endif %}
{%- endmacro %}

{#
  The YAML of the models the catalog shapes is written from it (make catalog)
  and carries the md5 of its text in meta.catalog_md5. When they differ (the
  catalog was edited, the YAML not regenerated), stop with the fix rather than
  build with a stale contract, feature meta or tests. Skipped where dbt has no
  model YAML to compare: parsing and unit tests.
#}
{% macro catalog_check_generated_yaml() %}
    {% if execute and model.resource_type == 'model' %}
        {% set written = model.config.meta.get('catalog_md5') %}
        {% if written != local_md5(feature_catalog_yaml()) %}
            {{ exceptions.raise_compiler_error(
                'the YAML of ' ~ model.name ~ ' was not written from the current feature catalog'
                ~ ' (macros/feature_catalog.sql): regenerate it with `make catalog`') }}
        {% endif %}
    {% endif %}
{% endmacro %}
