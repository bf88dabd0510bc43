{{ validate_against_customers('stg_shop__reviews', 'reviewed_at') }}
