{#
  Publish the marts (on-run-end): when this run built and tested every model
  of the project without a failure, write each mart (and the scores) as
  Parquet into a new version folder (with the warehouse's identity, and the
  generator's run config and ground truth, for lineage and for training's
  oracle figures, when the warehouse is synthetic) and swap in a new catalog of views over
  them (churn_publish, warehouse.published): readers never wait for a build
  and never see a half-published one. Any failure, or a partial run
  (--select, dbt run without tests), publishes nothing and says why.
#}
{% macro publish_marts(results) %}
    {{ return(adapter.dispatch('publish_marts', 'churn')(results)) }}
{% endmacro %}

{# Spark: the marts are the catalog's tables (marts.*), read through Spark or
   as Parquet; the versioned catalog of views is DuckDB's (docs/spark.md). #}
{% macro spark__publish_marts(results) %}
    {% if execute %}
        {% set reason = publish_refusal(results) %}
        {% do log('marts ' ~ ('not complete: ' ~ reason if reason else 'built as Spark tables in'
            ~ ' schema marts'), info=true) %}
    {% endif %}
    {{ return('') }}
{% endmacro %}

{% macro default__publish_marts(results) %}
    {% if not execute %}{{ return('') }}{% endif %}
    {% set reason = publish_refusal(results) %}
    {% if reason %}
        {% do log('marts not published: ' ~ reason, info=true) %}
        {{ return('') }}
    {% endif %}
    {% set version_dir = run_query(
        "select churn_new_version_dir('" ~ invocation_id ~ "')").columns[0].values()[0] %}
    {% set tables = {} %}
    {% set linked = {} %}
    {% for schema, name, partition in [
        ('marts', 'customer_snapshots', 'as_of'), ('marts', 'dim_customers', none),
        ('marts', 'churn_summary_monthly', none), ('marts', 'quarantined_rows', none),
        ('scoring', 'churn_scores', none), ('generator', 'run_config', none),
        ('meta', 'warehouse_identity', none), ('truth', 'churn_probability', none),
    ] %}
        {% set relation = adapter.get_relation(database=target.database, schema=schema,
                                               identifier=name) %}
        {% if relation is not none %}
            {% set columns = adapter.get_columns_in_relation(relation) %}
            {% set path = version_dir ~ '/' ~ schema ~ '.' ~ name ~ ('' if partition else '.parquet') %}
            {% set options = 'format parquet' ~ (', partition_by (' ~ partition
                ~ '), write_partition_columns true' if partition else '') %}
            {#- Partitions that this refresh left as they were: the published
                version's files, linked rather than written again. -#}
            {% set kept = publish_kept_partitions(relation, schema ~ '.' ~ name, partition) %}
            {% set rows = 'select * from ' ~ relation ~ (' where cast(' ~ partition
                ~ ' as varchar) not in (' ~ quoted_list(kept.keys()) ~ ')' if kept else '') %}
            {% do run_query('copy (' ~ rows ~ ') to '
                ~ "'" ~ path | replace("'", "''") ~ "' (" ~ options ~ ')') %}
            {% if kept %}{% do linked.update({schema ~ '.' ~ name: kept.values() | sum(start=[])}) %}{% endif %}
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
        'linked': linked,
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

{# The partitions of a partitioned mart that an incremental refresh did not
   change, with the published version's files of each ({value: [file]}), when
   that version is the build this refresh started from; else none ({}).
   Changed: the snapshots this run computed, and those whose labels it may
   have updated (macro relabeled_snapshot_dates). #}
{% macro publish_kept_partitions(relation, name, partition) %}
    {% set plan = refresh_plan() %}
    {% if partition != 'as_of' or plan.mode != 'incremental' %}{{ return({}) }}{% endif %}
    {% set published = fromjson(run_query("select churn_published_partitions('" ~ name ~ "', '"
        ~ plan.previous_build_id ~ "')").columns[0].values()[0]) %}
    {% set unchanged = run_query("select distinct cast(as_of as varchar) from " ~ relation
        ~ " where as_of not in (select as_of from " ~ refresh_model_relation('int_snapshots_to_build')
        ~ ") and as_of not in (" ~ relabeled_snapshot_dates() ~ ")").columns[0].values() %}
    {% set kept = {} %}
    {% for value in unchanged if value in published %}
        {% do kept.update({value: published[value]}) %}
    {% endfor %}
    {{ return(kept) }}
{% endmacro %}

{# 'a', 'b': values as SQL string literals. #}
{% macro quoted_list(values) %}
    {% set quoted = [] %}
    {% for value in values %}{% do quoted.append("'" ~ value | replace("'", "''") ~ "'") %}{% endfor %}
    {{ return(quoted | join(', ')) }}
{% endmacro %}
