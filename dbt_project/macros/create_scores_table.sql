-- noqa: disable=LT02
-- (sqlfluff cannot lay out Jinja that renders nothing outside dbt: execute is false there)
{#
  The table `python -m modeling.score` writes (source scoring.churn_scores),
  created empty, if missing, at the start of every dbt run so that the models on
  top of it build before any model has scored. Its columns and types are the
  source's in _scoring__sources.yml: the one definition, which modeling.score
  also reads (from the manifest).
#}
{% macro create_scores_table() %}
    {{ return(adapter.dispatch('create_scores_table', 'churn')()) }}
{% endmacro %}

{% macro default__create_scores_table() %}
    {% if execute %}
        {% set scores, columns = scores_table() %}
        create schema if not exists {{ scores.schema }};
        create table if not exists {{ scores.schema }}.{{ scores.identifier }} (
            {{ columns | join(' not null, ') }} not null
        );
    {% endif %}
{% endmacro %}

{# Spark: one statement per query (dbt-spark runs one), Parquet, and no NOT NULL
   (Hive tables do not keep it). #}
{% macro spark__create_scores_table() %}
    {% if execute %}
        {% set scores, columns = scores_table() %}
        {% do run_query('create database if not exists ' ~ scores.schema) %}
        {% do run_query('create table if not exists ' ~ scores.schema ~ '.' ~ scores.identifier
            ~ ' (' ~ columns | join(', ') ~ ') using parquet') %}
    {% endif %}
    {{ return('') }}
{% endmacro %}

{# The source node and its columns as `name type`. #}
{% macro scores_table() %}
    {% set scores = graph.sources['source.' ~ project_name ~ '.scoring.churn_scores'] %}
    {% set columns = [] %}
    {% for column in scores.columns.values() %}
        {% do columns.append(column.name ~ ' ' ~ column.data_type) %}
    {% endfor %}
    {{ return((scores, columns)) }}
{% endmacro %}
