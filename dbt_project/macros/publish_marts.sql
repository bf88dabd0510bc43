{#
  Publish the marts (on-run-end): when this run built and tested every model
  of the project without a failure, write each mart (and the scores) as
  Parquet into a new version folder (with the generator's run config, for
  lineage, when the warehouse is synthetic) and swap in a new catalog of views over
  them (churn_publish, warehouse.published): readers never wait for a build
  and never see a half-published one. Any failure, or a partial run
  (--select, dbt run without tests), publishes nothing and says why.
#}
{% macro publish_marts(results) %}
    {% if not execute %}{{ return('') }}{% endif %}
    {% set reason = publish_refusal(results) %}
    {% if reason %}
        {% do log('marts not published: ' ~ reason, info=true) %}
        {{ return('') }}
    {% endif %}
    {% set version_dir = run_query(
        "select churn_new_version_dir('" ~ invocation_id ~ "')").columns[0].values()[0] %}
    {% set tables = {} %}
    {% for schema, name, partition in [
        ('marts', 'customer_snapshots', 'as_of'), ('marts', 'dim_customers', none),
        ('marts', 'churn_summary_monthly', none), ('marts', 'quarantined_rows', none),
        ('scoring', 'churn_scores', none), ('generator', 'run_config', none),
    ] %}
        {% set relation = adapter.get_relation(database=target.database, schema=schema,
                                               identifier=name) %}
        {% if relation is not none %}
            {% set columns = adapter.get_columns_in_relation(relation) %}
            {% set path = version_dir ~ '/' ~ schema ~ '.' ~ name ~ ('' if partition else '.parquet') %}
            {% set options = 'format parquet' ~ (', partition_by (' ~ partition
                ~ '), write_partition_columns true' if partition else '') %}
            {% do run_query('copy (select * from ' ~ relation ~ ') to '
                ~ "'" ~ path | replace("'", "''") ~ "' (" ~ options ~ ')') %}
            {% do tables.update({schema ~ '.' ~ name: {
                'path': path,
                'columns': columns | map(attribute='name') | list,
                'types': columns | map(attribute='dtype') | list,
            }}) %}
        {% endif %}
    {% endfor %}
    {% set risk = results | selectattr('node.name', 'equalto', 'customer_risk') | first %}
    {% set spec = {
        'build_id': invocation_id,
        'features_sha256': features_sha256(),
        'version_dir': version_dir,
        'tables': tables,
        'views': {'marts.customer_risk': 'select *, ' ~ "'" ~ invocation_id ~ "'"
            ~ ' as build_id from (' ~ strip_database(risk.node.compiled_code) ~ ')'},
    } %}
    {% set catalog = run_query("select churn_publish('" ~ tojson(spec) | replace("'", "''")
        ~ "')").columns[0].values()[0] %}
    {% do log('published the marts of build ' ~ invocation_id ~ ' to ' ~ catalog, info=true) %}
    {% do record_refresh_state() %}
{% endmacro %}

{# Why this run must not publish, or nothing when it may: every model and test
   of the project ran (a full dbt build) and none failed. #}
{% macro publish_refusal(results) %}
    {% set failed = results | rejectattr('status', 'in', ['success', 'pass', 'warn', 'no-op']) | list %}
    {% if failed %}
        {{ return(failed | length ~ ' node(s) did not pass, e.g. ' ~ failed[0].node.name) }}
    {% endif %}
    {% set ran = results | map(attribute='node.unique_id') | list %}
    {% for node in graph.nodes.values() if node.resource_type in ['model', 'test', 'unit_test']
        and node.unique_id not in ran %}
        {{ return('this run did not build and test every model (e.g. ' ~ node.name
            ~ '): only a full dbt build publishes') }}
    {% endfor %}
    {{ return(none) }}
{% endmacro %}

{# SQL of the working warehouse without its database name, so that a view over
   it resolves inside the published catalog whatever the catalog is attached as. #}
{% macro strip_database(sql) %}
    {{ return(sql | replace('"' ~ target.database ~ '".', '')) }}
{% endmacro %}
