{# The features hash of this run's code and vars (warehouse.lineage, through the
   dbt plugin, from the manifest dbt writes before running anything): stamped on
   every snapshot row, compared by training with the manifest it reads. Empty
   where no rows are built (parsing, dbt compile, dbt docs generate). #}
{% macro features_sha256() %}
    {% if execute and flags.WHICH in ['build', 'run', 'retry'] %}
        {{ return(run_query(adapter.dispatch('features_sha256_query', 'churn')()).columns[0].values()[0]) }}
    {% endif %}
    {{ return('') }}
{% endmacro %}

{% macro default__features_sha256_query() %}
    {{ return('select churn_features_sha256()') }}
{% endmacro %}

{# On Spark the build runner (featurestore.spark) hashes the manifest of its
   parse and leaves the hash in a temporary view of the session. #}
{% macro spark__features_sha256_query() %}
    {{ return('select features_sha256 from churn_build') }}
{% endmacro %}
