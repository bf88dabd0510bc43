{#
  One row per active customer and snapshot date: point-in-time features (only
  events that happened and were loaded before as_of) and the churn label (no
  completed order in [as_of, as_of + churn_window_days); null when that window
  passes the data horizon). The training and scoring source of the models.

  Its columns are the feature catalog's (macro feature_catalog), in its order:
  measure totals are copied from int_customer_totals_by_snapshot, every other
  column is written out below (derived features in `features`).

  Incremental (docs/incremental.md): the snapshots of int_snapshots_to_build
  are computed and replace their rows (the pre-hook also drops snapshots no
  longer scheduled, such as the previous current one); every other snapshot is
  final except its label, which the post-hook recomputes where its window was
  still open at the previous build or holds a newly loaded completed order
  (macro relabel_kept_snapshots).
#}
-- depends_on: {{ ref('int_snapshots_to_build') }}

{#- The vars that shape these rows, rendered into the manifest's meta so that the
    modeling layer's dbt.features_sha256 changes whenever one of them does (the
    catalog is a macro, and macros are hashed with the SQL). -#}
{{ config(
    materialized='incremental',
    unique_key='as_of',
    incremental_strategy='insert_overwrite' if is_spark() else 'delete+insert',
    partition_by=['as_of'] if is_spark() else none,
    on_schema_change='fail',
    pre_hook="{{ drop_replaced_snapshots() }}",
    post_hook="{{ relabel_kept_snapshots() }}",
    meta={'shaping_vars': {
    'snapshot_start': var('snapshot_start'),
    'snapshot_end': var('snapshot_end'),
    'snapshot_interval': var('snapshot_interval'),
    'data_horizon': var('data_horizon'),
    'churn_window_days': var('churn_window_days'),
    'active_lookback_days': var('active_lookback_days'),
    'max_order_value': var('max_order_value'),
    'max_item_count': var('max_item_count'),
    'max_session_seconds': var('max_session_seconds'),
    'max_page_views': var('max_page_views'),
    'max_loyalty_points': var('max_loyalty_points'),
    'accepted_values': var('accepted_values'),
    'earliest_event_date': var('earliest_event_date'),
    'max_id_length': var('max_id_length'),
    'isolated_gap_days': var('isolated_gap_days'),
    'isolated_max_share': var('isolated_max_share'),
}},
) }}
{{ catalog_check_generated_yaml() }}
{% set catalog = feature_catalog() %}

with spine as (
    select * from {{ ref('int_snapshot_spine') }}
),

totals as (
    select * from {{ ref('int_customer_totals_by_snapshot') }}
),

order_periods as (
    select * from {{ ref('int_customer_order_periods') }}
),

customers as (
    select * from {{ ref('stg_shop__customers') }}
    where reject_reason is null
),

completed_orders as (
    {{ label_orders() }}
),

-- Population: a completed order known before as_of, within the active lookback.
active as (
    select * from totals
    where
        last_order_date
        >= cast({{ dbt.dateadd('day', '-' ~ var('active_lookback_days'), 'as_of') }} as date)
),

-- The label looks at all orders, whenever they were loaded: it is the outcome.
next_orders as (
    {{ next_event('active', 'completed_orders', 'customer_key', 'ordered_at', 'next_order_at') }}
),

-- Every column that is not a measure total of the catalog is written out here,
-- with its entry (description, type, tests) in the catalog.
features as (
    select
        customers.customer_id,
        active.as_of,
        customers.segment,
        customers.acquisition_channel,
        customers.country,
        -- Derived features: ratios, recency, rhythm and trends of the totals.
        cast({{ dbt.datediff('active.last_order_date', 'active.as_of', 'day') }} as bigint)
            as days_since_last_order,
        cast({{ dbt.datediff('active.first_order_date', 'active.as_of', 'day') }} as bigint)
            as days_since_first_order,
        cast({{ dbt.datediff('customers.signed_up_at', 'active.as_of', 'day') }} as bigint)
            as tenure_days,
        cast(active.revenue_lifetime as double) / active.orders_lifetime as avg_order_value,
        cast(active.items_lifetime as double) / active.orders_lifetime as avg_items_per_order,
        case
            when active.revenue_lifetime + active.discount_lifetime > 0
                then
                    cast(active.discount_lifetime as double)
                    / cast(active.revenue_lifetime + active.discount_lifetime as double)
            else 0
        end as discount_share,
        case
            when active.orders_lifetime > 1
                then
                    {{ dbt.datediff('active.first_order_date', 'active.last_order_date', 'day') }}
                    / cast(active.orders_lifetime - 1 as double)
        end as avg_days_between_orders,
        cast(coalesce(order_periods.order_periods_180d, 0) as bigint) as order_periods_180d,
        case
            when active.orders_lifetime > 1
                then
                    {{ dbt.datediff('active.last_order_date', 'active.as_of', 'day') }}
                    / greatest(
                        {{ dbt.datediff('active.first_order_date', 'active.last_order_date', 'day') }}
                        / cast(active.orders_lifetime - 1 as double),
                        1
                    )
        end as purchase_overdue_ratio,
        -- Orders per day in the last 30 days over orders per day in the 60 before
        -- (smoothed so that a quiet customer is 1, not undefined).
        (cast(active.orders_30d as double) + 0.5)
        / (cast(active.orders_90d - active.orders_30d as double) / 2 + 0.5)
            as order_trend_ratio,
        cast(active.orders_cancelled_lifetime as double) / active.orders_placed_lifetime
            as cancellation_rate,
        cast(active.orders_returned_lifetime as double) / active.orders_placed_lifetime
            as return_rate,
        (cast(active.visits_30d as double) + 0.5)
        / (cast(active.visits_90d - active.visits_30d as double) / 2 + 0.5)
            as visit_trend_ratio,
        case
            when active.visits_90d > 0
                then cast(active.page_views_90d as double) / active.visits_90d
            else 0
        end as pages_per_visit_90d,
        case
            when active.visits_90d > 0
                then cast(active.session_seconds_90d as double) / 60 / active.visits_90d
            else 0
        end as avg_session_minutes_90d,
        cast({{ dbt.datediff('active.last_visit_date', 'active.as_of', 'day') }} as bigint)
            as days_since_last_visit,
        active.loyalty_enrollments_lifetime > 0 as is_loyalty_member,
        -- Floored at 0: a redemption can be known before a late-loaded earn.
        greatest(
            active.points_earned_lifetime - active.points_redeemed_lifetime
            - active.points_expired_lifetime,
            0
        ) as loyalty_points_balance,
        case
            when active.reviews_lifetime > 0
                then cast(active.rating_sum_lifetime as double) / active.reviews_lifetime
        end as avg_rating,
        -- The label and its window.
        {{ churn_label('spine', 'next_orders.next_order_at') }} as churned,
        spine.label_window_end,
        '{{ features_sha256() }}' as features_sha256,
        -- The catalog's measure totals, as computed.
        {% for column in catalog_total_columns(catalog) %}
            active.{{ column }}{% if not loop.last %},{% endif %}
        {% endfor %}
    from active
    inner join spine on active.snapshot_index = spine.snapshot_index
    inner join customers on active.customer_key = customers.customer_key
    left join next_orders
        on
            active.customer_key = next_orders.customer_key
            and active.snapshot_index = next_orders.snapshot_index
    left join order_periods
        on
            active.customer_key = order_periods.customer_key
            and active.snapshot_index = order_periods.snapshot_index
),

final as (
    select
        {% for column in catalog.columns %}
            {{ column.name }}{% if not loop.last %},{% endif %}
        {% endfor %}
    from features
)

select * from final
