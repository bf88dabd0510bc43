{{ validate_against_customers('stg_shop__site_visits', 'visited_at') }}
