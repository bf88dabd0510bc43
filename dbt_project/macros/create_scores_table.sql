{#
  The table `python -m modeling.score` writes (source scoring.churn_scores),
  created empty, if missing, at the start of every dbt run so that the models on
  top of it build before any model has scored. Its columns and types are the
  source's in _scoring__sources.yml: the one definition, which modeling.score
  also reads (from the manifest).
#}
{% macro create_scores_table() %}
    {% if execute %}
        {% set scores = graph.sources['source.' ~ project_name ~ '.scoring.churn_scores'] %}
        create schema if not exists {{ scores.schema }};
        create table if not exists {{ scores.schema }}.{{ scores.identifier }} (
            {% for column in scores.columns.values() %}
                {{ column.name }} {{ column.data_type }} not null{% if not loop.last %},{% endif %}
            {% endfor %}
        );
    {% endif %}
{% endmacro %}
