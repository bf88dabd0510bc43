{{ validate_against_customers('stg_shop__support_tickets', 'opened_at') }}
