{# The features hash of this run's code and vars (warehouse.lineage, through the
   dbt plugin): stamped on every snapshot row, compared by training with the
   manifest it reads. Empty while dbt parses. #}
{% macro features_sha256() %}
    {% if execute %}
        {{ return(run_query('select churn_features_sha256()').columns[0].values()[0]) }}
    {% endif %}
    {{ return('') }}
{% endmacro %}
