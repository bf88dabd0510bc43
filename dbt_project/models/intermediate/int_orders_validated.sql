{{ validate_against_customers('stg_shop__orders', 'ordered_at') }}
