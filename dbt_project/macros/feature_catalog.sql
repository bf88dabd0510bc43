{#-
  THE FEATURE CATALOG of marts.customer_snapshots: the one place to add, change
  or remove a feature (docs/feature_store.md, "The feature catalog").

  - measures: what is counted or summed per customer, each once. The activity
    buckets (int_customer_activity_buckets) aggregate every measure per
    customer and snapshot placement, and int_customer_totals_by_snapshot turns
    them into point-in-time totals: <measure>_lifetime always, and
    <measure>_<w>d for every window w a column below (or the measure's own
    `windows`, for totals only derived features read) asks for.
      source      an event source of `event_sources`
      aggregate   count | sum | count_distinct_days (additive, windowed)
                  min | max | latest (lifetime only; output named <measure>)
      expression  SQL over the source's validated columns (sum, min, max, latest)
      where       SQL condition on those columns (optional)
      unit        money: summed exactly in cents, output as an amount (double)
      type        output type of min / max / latest
      windows     extra windows computed for derived features only
  - columns: every column of the mart, in order. A column with `measure`
    (and `window`, a number of days or `lifetime`) is that total, copied from
    the totals model; every other column is written out in
    customer_snapshots.sql (ids, attributes, derived features, the label).
    role: id | time | feature | label | metadata; kind (features): numeric |
    categorical; type: the contract type (defaulted for measure totals);
    tests: dbt data tests (measure totals default to accepted_range >= 0);
    doc: a shared doc block instead of a description.

  The catalog is plain YAML (no Jinja) in the set block below: Python reads
  the same text (featurestore.catalog) and writes from it the YAML of the
  three models it shapes and the column table of docs/feature_store.md
  (`make catalog`, also run by `make test`). Those files carry the md5 of this
  text, and dbt stops with the fix when they are stale (macro
  catalog_check_generated_yaml).
-#}
{% macro feature_catalog() %}
    {{ return(fromyaml(feature_catalog_yaml())) }}
{% endmacro %}

{% macro feature_catalog_yaml() %}
{% set catalog_yaml %}
# --- catalog: begin ---
event_sources:
  orders: {model: int_orders_validated, event_time: ordered_at}
  site_visits: {model: int_site_visits_validated, event_time: visited_at}
  loyalty_events: {model: int_loyalty_events_validated, event_time: occurred_at}
  reviews: {model: int_reviews_validated, event_time: reviewed_at}
  support_tickets: {model: int_support_tickets_validated, event_time: opened_at}

measures:
  orders_placed: {source: orders, aggregate: count}
  orders: {source: orders, aggregate: count, where: "order_status = 'completed'"}
  orders_cancelled: {source: orders, aggregate: count, where: "order_status = 'cancelled'"}
  orders_returned: {source: orders, aggregate: count, where: "order_status = 'returned'"}
  revenue:
    {source: orders, aggregate: sum, expression: order_value, unit: money,
     where: "order_status = 'completed'"}
  discount:
    {source: orders, aggregate: sum, expression: discount_amount, unit: money,
     where: "order_status = 'completed'"}
  items: {source: orders, aggregate: sum, expression: item_count, where: "order_status = 'completed'"}
  first_order_date:
    {source: orders, aggregate: min, expression: "cast(ordered_at as date)", type: date,
     where: "order_status = 'completed'"}
  last_order_date:
    {source: orders, aggregate: max, expression: "cast(ordered_at as date)", type: date,
     where: "order_status = 'completed'"}
  visits: {source: site_visits, aggregate: count}
  page_views: {source: site_visits, aggregate: sum, expression: page_views, windows: [90]}
  session_seconds: {source: site_visits, aggregate: sum, expression: session_seconds, windows: [90]}
  last_visit_date:
    {source: site_visits, aggregate: max, expression: "cast(visited_at as date)", type: date}
  loyalty_enrollments:
    {source: loyalty_events, aggregate: count, where: "loyalty_event_type = 'enrolled'"}
  points_earned:
    {source: loyalty_events, aggregate: sum, expression: points,
     where: "loyalty_event_type = 'earned'"}
  points_redeemed:
    {source: loyalty_events, aggregate: sum, expression: points,
     where: "loyalty_event_type = 'redeemed'"}
  points_expired:
    {source: loyalty_events, aggregate: sum, expression: points,
     where: "loyalty_event_type = 'expired'"}
  reviews: {source: reviews, aggregate: count}
  rating_sum: {source: reviews, aggregate: sum, expression: rating}
  last_rating: {source: reviews, aggregate: latest, expression: rating, type: integer}
  tickets: {source: support_tickets, aggregate: count}

model:
  description: >
    One row per active customer and snapshot date (as_of): point-in-time
    features and the churn label. The training and scoring source. Active = a
    completed order known before as_of within active_lookback_days. Column
    meta gives each column's role (id, time, feature, label, metadata) and the
    kind of each feature (numeric, categorical); the modeling layer reads the
    feature list from here. Generated from the feature catalog (macro
    feature_catalog).
  tests:
    - unique_combination: {combination: [customer_id, as_of]}
    - expression_is_true: {expression: days_since_last_order <= days_since_first_order}

columns:
  - name: customer_id
    role: id
    type: string
    doc: customer_id
    tests:
      - not_null
      - relationships: {to: "ref('dim_customers')", field: customer_id}
  - name: as_of
    role: time
    type: date
    doc: as_of
    tests: [not_null]
  - {name: segment, role: feature, kind: categorical, type: string, doc: segment, tests: [not_null]}
  - name: acquisition_channel
    role: feature
    kind: categorical
    type: string
    doc: acquisition_channel
    tests: [not_null]
  - {name: country, role: feature, kind: categorical, type: string, doc: country, tests: [not_null]}
  - name: days_since_last_order
    type: bigint
    description: "Recency: days from the last completed order to as_of (at least 0)."
    tests: [{accepted_range: {min_value: 0}}, not_null]
  - name: days_since_first_order
    type: bigint
    description: Days from the first completed order to as_of.
    tests: [{accepted_range: {min_value: 0}}]
  - name: tenure_days
    type: bigint
    description: Days from sign-up to as_of.
    tests: [{accepted_range: {min_value: 0}}]
  - name: orders_lifetime
    measure: orders
    window: lifetime
    description: "Frequency: completed orders ever (at least 1 in the population)."
    tests: [{accepted_range: {min_value: 1}}]
  - name: orders_30d
    measure: orders
    window: 30
    description: Completed orders in the 30 days before as_of.
  - name: orders_90d
    measure: orders
    window: 90
    description: Completed orders in the 90 days before as_of.
  - name: orders_180d
    measure: orders
    window: 180
    description: Completed orders in the 180 days before as_of.
  - name: revenue_lifetime
    measure: revenue
    window: lifetime
    description: "Monetary: amount paid on completed orders ever."
  - name: revenue_90d
    measure: revenue
    window: 90
    description: Amount paid on completed orders in the 90 days before as_of.
  - name: revenue_180d
    measure: revenue
    window: 180
    description: Amount paid on completed orders in the 180 days before as_of.
  - name: avg_order_value
    type: double
    description: Average amount paid per completed order (AOV).
    tests: [{accepted_range: {min_value: 0}}]
  - name: avg_items_per_order
    type: double
    description: Average items per completed order.
    tests: [{accepted_range: {min_value: 0}}]
  - name: discount_share
    type: double
    description: Discount as a share of list value (paid + discount) over completed orders, in [0, 1].
    tests: [{accepted_range: {min_value: 0, max_value: 1}}]
  - name: avg_days_between_orders
    type: double
    description: Mean gap in days between completed orders; null with a single order.
    tests: [{accepted_range: {min_value: 0}}]
  - name: order_periods_180d
    type: bigint
    description: >
      Regularity: how many of the six 30-day periods before as_of had a
      completed order (0 to 6; int_customer_order_periods).
    tests: [{accepted_range: {min_value: 0, max_value: 6}}]
  - name: purchase_overdue_ratio
    type: double
    description: >
      How overdue the next purchase is: days since the last order over the
      customer's own mean gap (above 1 = later than usual); null with a single
      order.
    tests: [{accepted_range: {min_value: 0}}]
  - name: order_trend_ratio
    type: double
    description: >
      Order rate in the last 30 days over the rate in the 60 days before
      (smoothed with +0.5; 1 = steady, below 1 = slowing).
    tests: [{accepted_range: {min_value: 0}}]
  - name: cancellation_rate
    type: double
    description: Share of all orders placed that were cancelled, in [0, 1].
    tests: [{accepted_range: {min_value: 0, max_value: 1}}]
  - name: return_rate
    type: double
    description: Share of all orders placed that were returned, in [0, 1].
    tests: [{accepted_range: {min_value: 0, max_value: 1}}]
  - name: visits_30d
    measure: visits
    window: 30
    description: Site visits in the 30 days before as_of (0 without visit data).
  - name: visits_90d
    measure: visits
    window: 90
    description: Site visits in the 90 days before as_of (0 without visit data).
  - name: visit_trend_ratio
    type: double
    description: >
      Visit rate in the last 30 days over the rate in the 60 days before
      (smoothed with +0.5).
    tests: [{accepted_range: {min_value: 0}}]
  - name: pages_per_visit_90d
    type: double
    description: Pages viewed per visit over the last 90 days (0 without visits).
    tests: [{accepted_range: {min_value: 0}}]
  - name: avg_session_minutes_90d
    type: double
    description: Average session length in minutes over the last 90 days (0 without visits).
    tests: [{accepted_range: {min_value: 0}}]
  - name: days_since_last_visit
    type: bigint
    description: >
      Days from the last site visit to as_of; null when the customer never
      visited (or no visit data).
    tests: [{accepted_range: {min_value: 0}}]
  - name: is_loyalty_member
    type: boolean
    description: Enrolled in the loyalty programme before as_of (false without loyalty data).
    tests: [not_null]
  - name: loyalty_points_balance
    type: bigint
    description: Points earned minus redeemed minus expired before as_of (0 for non-members).
    tests: [{accepted_range: {min_value: 0}}]
  - name: points_earned_90d
    measure: points_earned
    window: 90
    description: Loyalty points earned in the 90 days before as_of.
  - name: points_redeemed_90d
    measure: points_redeemed
    window: 90
    description: Loyalty points redeemed in the 90 days before as_of.
  - name: reviews_lifetime
    measure: reviews
    window: lifetime
    description: Reviews written before as_of (0 without review data).
  - name: avg_rating
    type: double
    description: Mean star rating of the customer's reviews, 1 to 5; null without reviews.
    tests: [{accepted_range: {min_value: 1, max_value: 5}}]
  - name: last_rating
    measure: last_rating
    description: Rating of the customer's latest review, 1 to 5; null without reviews.
    tests: [{accepted_range: {min_value: 1, max_value: 5}}]
  - name: tickets_90d
    measure: tickets
    window: 90
    description: Support tickets opened in the 90 days before as_of.
  - name: tickets_lifetime
    measure: tickets
    window: lifetime
    description: Support tickets opened before as_of.
  - name: churned
    role: label
    kind: numeric
    type: integer
    description: >
      Label: 1 if the customer placed no completed order in [as_of,
      label_window_end), 0 otherwise; null when label_window_end is past the
      data horizon (the scoring population).
    tests: [{accepted_values: {values: [0, 1]}}]
  - name: label_window_end
    role: metadata
    type: date
    description: "End (exclusive) of the label window: as_of + churn_window_days."
    tests: [not_null]
  - name: features_sha256
    role: metadata
    type: string
    description: >
      The features hash of the code and vars that built this row
      (warehouse.lineage): training compares it with the manifest it reads.
    tests: [not_null]
# --- catalog: end ---
{% endset %}
{{ return(catalog_yaml) }}
{% endmacro %}
