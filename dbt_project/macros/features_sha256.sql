{# The features hash of this run's code and vars (warehouse.lineage, through the
   dbt plugin, from the manifest dbt writes before running anything): stamped on
   every snapshot row, compared by training with the manifest it reads. Empty
   where no rows are built (parsing, dbt compile, dbt docs generate). #}
{% macro features_sha256() %}
    {% if execute and flags.WHICH in ['build', 'run', 'retry'] %}
        {{ return(run_query('select churn_features_sha256()').columns[0].values()[0]) }}
    {% endif %}
    {{ return('') }}
{% endmacro %}
