-- noqa: disable=all
-- (Jinja that runs queries at execution time: there is no SQL here for sqlfluff)
{#
  Incremental refresh (docs/incremental.md). `dbt build` refreshes only what
  changed since the last complete build, or rebuilds everything and says why.

  State of the complete builds, in schema refresh_state (written at the end of
  a build that published, record_refresh_state):
  - builds: build id, features hash, when it finished, how it was built;
  - raw_marks: per raw table, the rows it read (count, highest rowid, and a
    fingerprint of their rowid, id and _loaded_at): raw tables are append-only,
    so the rows after the highest rowid are the new ones;
  - snapshots: the snapshot dates it built and its data horizon;
  - isolated_dates: the dates it quarantined as isolated_timestamp.
  plans holds each run's decision (plan_refresh, on-run-start), which the
  models read through should_full_refresh() and refresh_plan().
#}

{% macro refresh_state_ddl() %}
    create schema if not exists refresh_state;
    create table if not exists refresh_state.plans (
        invocation_id varchar, command varchar, started_at timestamp, mode varchar,
        reason varchar, previous_build_id varchar, rebuild_after date
    );
    create table if not exists refresh_state.builds (
        build_id varchar, features_sha256 varchar, finished_at timestamp, mode varchar
    );
    create table if not exists refresh_state.raw_marks (
        build_id varchar, source_table varchar, row_count bigint, max_rowid bigint,
        fingerprint ubigint
    );
    create table if not exists refresh_state.snapshots (
        build_id varchar, as_of date, data_horizon timestamp
    );
    create table if not exists refresh_state.isolated_dates (
        build_id varchar, source_table varchar, event_date date
    );
{% endmacro %}

{# dbt's own switch, extended: an incremental model is rebuilt in full when its
   config or --full-refresh says so, and also when this run's refresh plan is a
   full rebuild. Overrides dbt's global macro (root project macros come first). #}
{% macro should_full_refresh() %}
    {% set configured = config.get('full_refresh') %}
    {% if configured is not none %}{{ return(configured) }}{% endif %}
    {% if flags.FULL_REFRESH %}{{ return(true) }}{% endif %}
    {{ return(refresh_plan().mode != 'incremental') }}
{% endmacro %}

{# This run's plan: mode ('incremental' or 'full'), reason, previous_build_id,
   rebuild_after (snapshots after this date are rebuilt; none: only new ones).
   'full' wherever there is no plan (parsing, unit tests, other commands). #}
{% macro refresh_plan() %}
    {{ return(adapter.dispatch('refresh_plan', 'churn')()) }}
{% endmacro %}

{# Spark builds are full rebuilds: the refresh state needs UPDATE, DELETE and
   row ids, which Parquet tables without Delta do not have (docs/spark.md). #}
{% macro spark__refresh_plan() %}
    {{ return({'mode': 'full', 'reason': 'Spark builds are full rebuilds (incremental refresh is DuckDB only for now)', 'previous_build_id': none,
               'rebuild_after': none}) }}
{% endmacro %}

{% macro default__refresh_plan() %}
    {% set plan = {'mode': 'full', 'reason': 'no refresh plan', 'previous_build_id': none,
                   'rebuild_after': none} %}
    {% if execute and refresh_state_exists() %}
        {% set found = run_query(
            "select mode, reason, previous_build_id, rebuild_after from refresh_state.plans"
            ~ " where invocation_id = '" ~ invocation_id ~ "'") %}
        {% if found.rows | length > 0 %}
            {% set row = found.rows[0] %}
            {{ return({'mode': row[0], 'reason': row[1], 'previous_build_id': row[2],
                       'rebuild_after': row[3]}) }}
        {% endif %}
    {% endif %}
    {{ return(plan) }}
{% endmacro %}

{% macro refresh_state_exists() %}
    {{ return(run_query(
        "select count(*) from information_schema.tables"
        ~ " where table_schema = 'refresh_state' and table_name = 'plans'"
    ).columns[0].values()[0] > 0) }}
{% endmacro %}

{# The raw tables (source shop) with their id column, from the source YAML. #}
{% macro refresh_raw_tables() %}
    {% set tables = [] %}
    {% for source in graph.sources.values() if source.source_name == 'shop' %}
        {% do tables.append({'name': source.name, 'relation': source.schema ~ '.' ~ source.identifier,
                             'id': source.config.meta.id_column}) %}
    {% endfor %}
    {{ return(tables | sort(attribute='name')) }}
{% endmacro %}

{# Count, highest rowid and fingerprint of a raw table's rows up to max_rowid
   (all rows when none), and how many rows lie after it: one scan. #}
{% macro raw_mark_sql(table, max_rowid=none) %}
    {% set read = 'true' if max_rowid is none else 'rowid <= ' ~ max_rowid %}
    select
        {{ raw_mark_aggregates(table, read) }},
        count(*) filter (where not ({{ read }})) as added
    from {{ table.relation }}
{% endmacro %}

{# A mark's three aggregates over the rows where `read` holds: count, highest
   rowid and a fingerprint of where each row is, its id and when it was loaded. #}
{% macro raw_mark_aggregates(table, read='true') %}
    count(*) filter (where {{ read }}) as row_count,
    coalesce(max(rowid) filter (where {{ read }}), -1) as max_rowid,
    coalesce(bit_xor(hash(rowid, {{ table.id }}, _loaded_at)) filter (where {{ read }}), 0)
        as fingerprint
{% endmacro %}

{# The mark of a raw table after an incremental refresh: the previous build's
   mark (whose rows this run's plan checked were unchanged) extended by the
   rows after it, reading only those (the fingerprint is an xor, so it adds up). #}
{% macro raw_mark_after_sql(table, build_id) %}
    previous.row_count + added.row_count,
    greatest(previous.max_rowid, added.max_rowid),
    xor(previous.fingerprint, added.fingerprint)
    from refresh_state.raw_marks as previous
    cross join (
        select {{ raw_mark_aggregates(table) }}
        from {{ table.relation }}
        where rowid > {{ refresh_high_water_mark(table.name, build_id) }}
    ) as added
    where previous.build_id = '{{ build_id }}' and previous.source_table = '{{ table.name }}'
{% endmacro %}

{# The highest raw rowid a complete build (default: the one this run's plan
   refreshes) read of a table; -1 when none. #}
{% macro refresh_high_water_mark(table_name, build_id=none) %}
    {% set build_id = build_id or refresh_plan().previous_build_id %}
    {% set found = run_query(
        "select max_rowid from refresh_state.raw_marks where build_id = '"
        ~ build_id ~ "' and source_table = '" ~ table_name ~ "'") %}
    {{ return(found.rows[0][0] if found.rows | length else -1) }}
{% endmacro %}

{# on-run-start: decide this run's refresh and say it in one line. #}
{% macro plan_refresh() %}
    {{ return(adapter.dispatch('plan_refresh', 'churn')()) }}
{% endmacro %}

{% macro spark__plan_refresh() %}
    {% if execute and flags.WHICH in ['build', 'run', 'retry'] %}
        {% do log('refresh: full rebuild: ' ~ refresh_plan().reason, info=true) %}
    {% endif %}
    {{ return('') }}
{% endmacro %}

{% macro default__plan_refresh() %}
    {% if not execute %}{{ return('') }}{% endif %}
    {% do run_query(refresh_state_ddl()) %}
    {% if flags.WHICH not in ['build', 'run', 'retry'] %}{{ return('') }}{% endif %}
    {% set plan = refresh_decision() %}
    {% do run_query(
        "insert into refresh_state.plans values ('" ~ invocation_id ~ "', '" ~ flags.WHICH
        ~ "', now(), '" ~ plan.mode ~ "', '" ~ plan.reason | replace("'", "''") ~ "', "
        ~ ("'" ~ plan.previous_build_id ~ "'" if plan.previous_build_id else 'null') ~ ", "
        ~ ("date '" ~ plan.rebuild_after ~ "'" if plan.rebuild_after else 'null') ~ ")") %}
    {#- Committed now (through dbt, which tracks the transaction): the models read
        the plan on their own, and a killed run must leave it behind. -#}
    {% do adapter.commit() %}
    {% do log('refresh: ' ~ ('incremental, ' if plan.mode == 'incremental' else 'full rebuild: ')
              ~ plan.reason, info=true) %}
    {{ return('') }}
{% endmacro %}

{% macro refresh_decision() %}
    {% set full = {'mode': 'full', 'previous_build_id': none, 'rebuild_after': none} %}
    {% if flags.FULL_REFRESH %}
        {{ return(dict(full, reason='--full-refresh')) }}
    {% endif %}
    {% set last = run_query(
        "select build_id, features_sha256, strftime(finished_at, '%Y-%m-%d %H:%M')"
        ~ " from refresh_state.builds order by finished_at desc limit 1").rows %}
    {% if last | length == 0 %}
        {{ return(dict(full, reason='no complete build of this warehouse to refresh')) }}
    {% endif %}
    {% set build_id, built_sha256, finished = last[0][0], last[0][1], last[0][2] %}
    {% set unfinished = run_query(
        "select invocation_id, strftime(started_at, '%Y-%m-%d %H:%M') from refresh_state.plans"
        ~ " where started_at > (select max(finished_at) from refresh_state.builds"
        ~ " where build_id = '" ~ build_id ~ "') and invocation_id <> '" ~ invocation_id ~ "'"
        ~ " order by started_at limit 1").rows %}
    {% if unfinished | length %}
        {{ return(dict(full, reason='a ' ~ 'run started at ' ~ unfinished[0][1] ~ ' (' ~ unfinished[0][0]
            ~ ') did not finish a complete build, so the working tables may hold part of it')) }}
    {% endif %}
    {% if built_sha256 != features_sha256() %}
        {{ return(dict(full, reason='the feature code or a shaping var changed since build '
            ~ build_id ~ ' (' ~ finished ~ ')')) }}
    {% endif %}
    {% for model in graph.nodes.values() if model.resource_type == 'model'
        and model.config.materialized == 'incremental' %}
        {% if adapter.get_relation(database=target.database, schema=model.schema,
                                   identifier=model.alias) is none %}
            {{ return(dict(full, reason=model.schema ~ '.' ~ model.alias ~ ' does not exist')) }}
        {% endif %}
    {% endfor %}
    {% set new_rows = [] %}
    {% for table in refresh_raw_tables() %}
        {% set columns = adapter.get_columns_in_relation(api.Relation.create(
            database=target.database, schema=table.relation.split('.')[0],
            identifier=table.relation.split('.')[1])) | map(attribute='name') | map('lower') | list %}
        {% if table.id not in columns or '_loaded_at' not in columns %}
            {{ return(dict(full, reason=table.relation ~ ' has no ' ~ table.id ~ ' or _loaded_at column')) }}
        {% endif %}
        {% set mark = run_query("select row_count, max_rowid, fingerprint from refresh_state.raw_marks"
            ~ " where build_id = '" ~ build_id ~ "' and source_table = '" ~ table.name ~ "'").rows %}
        {% if mark | length == 0 %}
            {{ return(dict(full, reason='build ' ~ build_id ~ ' recorded nothing of ' ~ table.relation)) }}
        {% endif %}
        {% set now = run_query(raw_mark_sql(table, mark[0][1])).rows[0] %}
        {% if now[0] != mark[0][0] or now[2] != mark[0][2] %}
            {{ return(dict(full, reason=table.relation ~ ' changed in rows build ' ~ build_id
                ~ ' had read (raw tables are append-only; rows were rewritten or deleted)')) }}
        {% endif %}
        {% if now[3] > 0 %}{% do new_rows.append(table.name ~ ' ' ~ now[3]) %}{% endif %}
    {% endfor %}
    {% set reason = refresh_new_rows_conflict(build_id) %}
    {% if reason %}{{ return(dict(full, reason=reason)) }}{% endif %}
    {% set plan = {'mode': 'incremental', 'previous_build_id': build_id} %}
    {% set rebuild_after = refresh_rebuild_after(build_id) %}
    {% set rebuilt = run_query(
        "select count(*) from refresh_state.snapshots where build_id = '" ~ build_id ~ "'"
        ~ (" and as_of > date '" ~ rebuild_after ~ "'" if rebuild_after else ' and false')).rows[0] %}
    {{ return(dict(plan, rebuild_after=rebuild_after,
        reason='after build ' ~ build_id ~ ' (' ~ finished ~ '): new raw rows '
            ~ (new_rows | join(', ') if new_rows else 'none')
            ~ (('; rows loaded as early as ' ~ rebuild_after ~ ' rebuild ' ~ rebuilt[0]
                ~ ' built snapshot(s) after that day') if rebuilt[0] > 0 else ''))) }}
{% endmacro %}

{# Why the new raw rows cannot simply be appended (none if they can): a new copy
   of a kept row that sorts before it (loaded earlier), or a new customer whose
   events were quarantined as unknown_customer_id. Either changes rows already
   validated, and the snapshots they fed. Reads the raw tables and the
   validated tables only (staging views would fail on a raw table that lost a
   column, and the model should say that). #}
{% macro refresh_new_rows_conflict(build_id) %}
    {% set customers_mark = refresh_high_water_mark('customers', build_id) %}
    {% set new_customers = "(select " ~ normalize_id('customer_id') ~ " as customer_id"
        ~ " from raw.customers where rowid > " ~ customers_mark ~ ")" %}
    {% for table in refresh_raw_tables() if table.name != 'customers' %}
        {% set validated = refresh_model_relation('int_' ~ table.name ~ '_validated') %}
        {% set earlier = run_query(
            "select count(*) from (select " ~ normalize_id(table.id) ~ " as id,"
            ~ " try_cast(_loaded_at as timestamp) as loaded_at from " ~ table.relation
            ~ " where rowid > " ~ refresh_high_water_mark(table.name, build_id) ~ ") as new"
            ~ " inner join " ~ validated ~ " as kept on new.id = kept." ~ table.id
            ~ " where new.loaded_at < kept.loaded_at"
            ~ " or (kept.loaded_at is null and new.loaded_at is not null)").rows[0][0] %}
        {% if earlier > 0 %}
            {{ return(earlier ~ ' new row(s) of ' ~ table.relation ~ ' are copies of rows already'
                ~ ' kept, loaded earlier than them (a history backfill of known ids)') }}
        {% endif %}
        {% set resolved = run_query(
            "select count(*) from " ~ validated ~ " where reject_reason = 'unknown_customer_id'"
            ~ " and customer_id in " ~ new_customers).rows[0][0] %}
        {% if resolved > 0 %}
            {{ return(resolved ~ ' row(s) of ' ~ table.relation ~ ' quarantined as'
                ~ ' unknown_customer_id now have their customer') }}
        {% endif %}
    {% endfor %}
    {% set replaced = run_query(
        "with copies as (select " ~ normalize_id('customer_id') ~ " as customer_id, rowid > "
        ~ customers_mark ~ " as is_new, try_cast(_loaded_at as timestamp) as loaded_at"
        ~ " from raw.customers where " ~ normalize_id('customer_id') ~ " in " ~ new_customers ~ "),"
        ~ " kept as (select customer_id, min(loaded_at) as loaded_at, count(*) as copies"
        ~ " from copies where not is_new group by customer_id)"
        ~ " select count(*) from copies inner join kept using (customer_id) where copies.is_new"
        ~ " and (copies.loaded_at < kept.loaded_at"
        ~ " or (kept.loaded_at is null and copies.loaded_at is not null))").rows[0][0] %}
    {% if replaced > 0 %}
        {{ return(replaced ~ ' customer(s) of raw.customers have a new copy loaded earlier than'
            ~ ' the kept one (a history backfill of known customers)') }}
    {% endif %}
    {{ return(none) }}
{% endmacro %}

{# The day of the earliest _loaded_at among the new event rows: a snapshot at
   as_of uses a row only if it was loaded before as_of (macro known_date), so
   every snapshot on or before that day is final. None when nothing new. Rows
   stamped before the shop's epoch are quarantined, never used: ignored. #}
{% macro refresh_rebuild_after(build_id) %}
    {% set parts = [] %}
    {% for table in refresh_raw_tables() if table.name != 'customers' %}
        {% do parts.append("select min(try_cast(_loaded_at as timestamp)) as loaded_at from "
            ~ table.relation ~ " where rowid > " ~ refresh_high_water_mark(table.name, build_id)) %}
    {% endfor %}
    {% set day = run_query("select cast(min(loaded_at) as date) from (" ~ parts | join(' union all ')
        ~ ") where loaded_at >= " ~ var_literal('earliest_event_date', 'timestamp')).rows[0][0] %}
    {{ return(day) }}
{% endmacro %}

{# on-run-end, after a publish: what this build read and built, for the next
   run's plan. The state of the last three builds is kept. #}
{% macro record_refresh_state() %}
    {% set plan = refresh_plan() %}
    {% set marks = [] %}
    {% for table in refresh_raw_tables() %}
        {% do marks.append("select '" ~ invocation_id ~ "', '" ~ table.name ~ "', "
            ~ (raw_mark_after_sql(table, plan.previous_build_id) if plan.mode == 'incremental'
               else '* exclude (added) from (' ~ raw_mark_sql(table) ~ ')')) %}
    {% endfor %}
    {% call statement('record_refresh_state') %}
        insert into refresh_state.raw_marks {{ marks | join(' union all ') }};
        insert into refresh_state.snapshots
        select '{{ invocation_id }}', as_of, data_horizon from {{ refresh_model_relation('int_snapshot_spine') }};
        insert into refresh_state.isolated_dates
        select '{{ invocation_id }}', source_table, event_date
        from {{ refresh_model_relation('int_isolated_event_dates') }};
        insert into refresh_state.builds
        values ('{{ invocation_id }}', '{{ features_sha256() }}', now(), '{{ plan.mode }}');
        {% for table in ['raw_marks', 'snapshots', 'isolated_dates', 'builds'] %}
            delete from refresh_state.{{ table }} where build_id not in (
                select build_id from refresh_state.builds order by finished_at desc limit 3
            );
        {% endfor %}
        delete from refresh_state.plans where started_at < (
            select min(finished_at) from refresh_state.builds
        ) - interval 30 day;
    {% endcall %}
    {#- on-run-end statements are not committed by dbt (the connection closes). -#}
    {% do adapter.commit() %}
{% endmacro %}

{# schema.name of a model of this project (hooks have no ref). #}
{% macro refresh_model_relation(name) %}
    {% set node = graph.nodes.values() | selectattr('resource_type', 'equalto', 'model')
        | selectattr('name', 'equalto', name) | first %}
    {{ return(node.schema ~ '.' ~ node.alias) }}
{% endmacro %}
