{{ validate_against_customers('stg_shop__loyalty_events', 'occurred_at') }}
