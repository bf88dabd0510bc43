{{ config(
    materialized=incremental_on_duckdb(),
    unique_key='raw_rowid',
    incremental_strategy='delete+insert',
) }}
{{ validate_against_customers('stg_shop__support_tickets', 'ticket_id', 'opened_at') }}
