{{ config(
    materialized=incremental_on_duckdb(),
    unique_key='raw_rowid',
    incremental_strategy='delete+insert',
) }}
{{ validate_against_customers('stg_shop__loyalty_events', 'loyalty_event_id', 'occurred_at') }}
