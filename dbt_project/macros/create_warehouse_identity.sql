-- noqa: disable=LT02
-- (sqlfluff cannot lay out Jinja that renders nothing outside dbt: execute is false there)
{#
  The warehouse's identity (source warehouse.warehouse_identity), created once:
  by the first dbt run on the warehouse, then left as it is. Training and
  scoring read it from the published marts to keep each shop's models apart.
#}
{% macro create_warehouse_identity() %}
    {{ return(adapter.dispatch('create_warehouse_identity', 'churn')()) }}
{% endmacro %}

{% macro default__create_warehouse_identity() %}
    {% if execute %}
        {% set identity = graph.sources['source.' ~ project_name ~ '.warehouse.warehouse_identity'] %}
        {% set relation = identity.schema ~ '.' ~ identity.identifier %}
        create schema if not exists {{ identity.schema }};
        create table if not exists {{ relation }} (
            warehouse_id varchar not null, warehouse_name varchar not null, created_at timestamp not null
        );
        insert into {{ relation }}
        select
            cast(uuid() as varchar),
            coalesce(nullif(trim(regexp_replace(lower('{{ target.database | replace("'", "''") }}'),
                '[^a-z0-9]+', '-', 'g'), '-'), ''), 'warehouse'),
            cast(current_timestamp at time zone 'UTC' as timestamp)
        where not exists (select 1 from {{ relation }});
    {% endif %}
{% endmacro %}

{# Spark: one statement per query; the name is the Spark warehouse folder's
   (CHURN_WAREHOUSE_NAME, set by featurestore.spark). #}
{% macro spark__create_warehouse_identity() %}
    {% if execute %}
        {% set identity = graph.sources['source.' ~ project_name ~ '.warehouse.warehouse_identity'] %}
        {% set relation = identity.schema ~ '.' ~ identity.identifier %}
        {% set name = env_var('CHURN_WAREHOUSE_NAME', 'spark') | lower %}
        {% do run_query('create database if not exists ' ~ identity.schema) %}
        {% do run_query('create table if not exists ' ~ relation ~ ' (warehouse_id string,'
            ~ ' warehouse_name string, created_at timestamp) using parquet') %}
        {% if run_query('select count(*) from ' ~ relation).columns[0].values()[0] == 0 %}
            {% do run_query('insert into ' ~ relation ~ " select uuid(), '"
                ~ (modules.re.sub('[^a-z0-9]+', '-', name).strip('-') or 'warehouse')
                ~ "', current_timestamp()") %}
        {% endif %}
    {% endif %}
    {{ return('') }}
{% endmacro %}
