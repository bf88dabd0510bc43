-- noqa: disable=all
-- (Jinja that runs queries at execution time: there is no SQL here for sqlfluff)
{#
  The hooks of an incremental refresh (docs/incremental.md, macros in
  refresh.sql): they act only when this run's plan is incremental.
#}

{# post-hook of int_isolated_event_dates: new rows can change which dates are
   isolated, and so the validity of rows already validated; then this run
   rebuilds everything downstream. #}
{% macro refresh_check_isolated_dates() %}
    {% if not execute or refresh_plan().mode != 'incremental' %}{{ return('') }}{% endif %}
    {% set previous = "(select source_table, event_date from refresh_state.isolated_dates"
        ~ " where build_id = '" ~ refresh_plan().previous_build_id ~ "')" %}
    {% set now = "(select source_table, event_date from " ~ this ~ ")" %}
    {% set changed = run_query("select count(*) from ((" ~ previous ~ " except " ~ now
        ~ ") union all (" ~ now ~ " except " ~ previous ~ "))").rows[0][0] %}
    {% if changed > 0 %}
        {% set reason = 'the new rows change which dates are isolated (' ~ changed
            ~ ' date(s) in or out of int_isolated_event_dates), and so rows already validated' %}
        {% do run_query("update refresh_state.plans set mode = 'full', reason = '"
            ~ reason | replace("'", "''") ~ "' where invocation_id = '" ~ invocation_id ~ "'") %}
        {% do log('refresh: full rebuild from here on: ' ~ reason, info=true) %}
    {% endif %}
    {{ return('') }}
{% endmacro %}

{# pre-hook of customer_snapshots in an incremental refresh: the snapshots it
   recomputes, and those no longer scheduled (the previous current one). #}
{% macro drop_replaced_snapshots() %}
    {% if is_incremental() %}
        delete from {{ this }}
        where
            as_of not in (select as_of from {{ ref('int_snapshot_spine') }})
            or as_of in (select as_of from {{ ref('int_snapshots_to_build') }})
    {% endif %}
{% endmacro %}

{# post-hook of customer_snapshots in an incremental refresh: the label of a
   kept snapshot looks at every completed order, whenever it was loaded, so it
   is recomputed where it can have changed: the window was still open at the
   previous build's data horizon, or holds a newly loaded completed order. An
   update of the labels that changed, not a rewrite of the rows. #}
{% macro relabel_kept_snapshots() %}
    {% if is_incremental() %}
        update {{ this }} as kept
        set churned = relabeled.churned
        from (
            with spine as (
                select * from {{ ref('int_snapshot_spine') }}
            ),

            completed_orders as (
                {{ label_orders() }}
            ),

            open_labels as (
                select
                    snapshots.customer_id,
                    snapshots.as_of,
                    snapshots.churned,
                    customers.customer_key
                from {{ this }} as snapshots
                inner join {{ ref('stg_shop__customers') }} as customers
                    on snapshots.customer_id = customers.customer_id
                where snapshots.as_of in ({{ relabeled_snapshot_dates() }})
            )

            select
                open_labels.customer_id,
                open_labels.as_of,
                open_labels.churned as churned_before,
                {{ churn_label('spine', 'completed_orders.ordered_at') }} as churned
            from open_labels
            inner join spine on open_labels.as_of = spine.as_of
            asof left join completed_orders
                on
                    open_labels.customer_key = completed_orders.customer_key
                    and open_labels.as_of <= completed_orders.ordered_at
        ) as relabeled
        where
            kept.customer_id = relabeled.customer_id
            and kept.as_of = relabeled.as_of
            and relabeled.churned is distinct from relabeled.churned_before
    {% endif %}
{% endmacro %}

{# The kept snapshots whose labels an incremental refresh may change (a query
   of their as_of): those whose label window ends after the previous build's
   data horizon, or after the earliest newly loaded completed order if
   earlier. Relabeled by relabel_kept_snapshots, republished by publish_marts. #}
{% macro relabeled_snapshot_dates() %}
    select spine.as_of
    from {{ refresh_model_relation('int_snapshot_spine') }} as spine
    where
        spine.as_of not in (select as_of from {{ refresh_model_relation('int_snapshots_to_build') }})
        and spine.label_window_end > cast(least(
            (
                select max(built.data_horizon) from refresh_state.snapshots as built
                where built.build_id = '{{ refresh_plan().previous_build_id }}'
            ),
            (
                select min(orders.ordered_at) from {{ refresh_model_relation('int_orders_validated') }} as orders
                where
                    orders.raw_rowid > {{ refresh_high_water_mark('orders') }}
                    and orders.reject_reason is null
                    and orders.order_status = 'completed'
            )
        ) as date)
{% endmacro %}
