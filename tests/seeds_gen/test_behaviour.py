"""The seed's hypotheses hold in the generated data, seen only through raw events.

Churn is simulated as behaviour; these tests check that what a churn model is
supposed to learn is really in the data (and that the truth agrees with it).
"""

from __future__ import annotations

import pytest
from sklearn.metrics import roc_auc_score

from tests.conftest import query

AS_OF = "2025-07-01"

# Observed 90-day label at AS_OF for customers active in the prior 365 days,
# with a few observable traits as of AS_OF.
LABELED = f"""
with completed as (
    select customer_id, ordered_at from raw.orders where status = 'completed'
),
active as (
    select customer_id from completed
    where ordered_at < date '{AS_OF}' and ordered_at >= date '{AS_OF}' - interval 365 day
    group by customer_id
),
future as (
    select distinct customer_id from completed
    where ordered_at >= date '{AS_OF}' and ordered_at < date '{AS_OF}' + interval 90 day
),
members as (
    select distinct customer_id from raw.loyalty_events
    where event_type = 'enrolled' and occurred_at < date '{AS_OF}'
),
visits as (
    select customer_id, count(*) as visits_90d from raw.site_visits
    where visited_at < date '{AS_OF}' and visited_at >= date '{AS_OF}' - interval 90 day
    group by customer_id
),
ratings as (
    select customer_id, avg(rating) as mean_rating from raw.reviews
    where reviewed_at < date '{AS_OF}' group by customer_id
)
select
    a.customer_id,
    (f.customer_id is null)::int as churned,
    m.customer_id is not null as is_member,
    coalesce(v.visits_90d, 0) as visits_90d,
    r.mean_rating
from active as a
left join future as f on a.customer_id = f.customer_id
left join members as m on a.customer_id = m.customer_id
left join visits as v on a.customer_id = v.customer_id
left join ratings as r on a.customer_id = r.customer_id
"""


def churn_rate(db, where: str) -> float:
    return query(db, f"select avg(churned) from ({LABELED}) where {where}")[0][0]


def test_churn_rate_is_realistic(behaviour_db):
    rate = churn_rate(behaviour_db, "true")
    assert 0.15 <= rate <= 0.40


def test_loyalty_members_churn_less(behaviour_db):
    assert churn_rate(behaviour_db, "is_member") < 0.85 * churn_rate(behaviour_db, "not is_member")


def test_frequent_visitors_churn_less(behaviour_db):
    low, high = query(
        behaviour_db,
        f"select quantile_cont(visits_90d, 0.33), quantile_cont(visits_90d, 0.67) from ({LABELED})",
    )[0]
    frequent = churn_rate(behaviour_db, f"visits_90d >= {high}")
    rare = churn_rate(behaviour_db, f"visits_90d <= {low}")
    assert frequent < 0.6 * rare


def test_good_reviewers_churn_less(behaviour_db):
    happy = churn_rate(behaviour_db, "mean_rating >= 4")
    unhappy = churn_rate(behaviour_db, "mean_rating <= 2.5")
    assert happy < 0.8 * unhappy


# Customers whose latent churn falls inside the data with a year of history before it.
CHURNERS = """
select t.customer_id, t.churn_at
from truth.customer_traits as t
join raw.customers as c on t.customer_id = c.customer_id
where t.churn_at < timestamp '2025-12-01' and c.signup_at < t.churn_at - interval 300 day
"""


@pytest.mark.parametrize(
    ("table", "time_column", "status_filter"),
    [("orders", "ordered_at", "e.status = 'completed'"), ("site_visits", "visited_at", "true")],
)
def test_activity_falls_before_churn(behaviour_db, table, time_column, status_filter):
    recent, earlier = query(
        behaviour_db,
        f"""
        select
            count(*) filter (e.{time_column} >= k.churn_at - interval 45 day) / 45.0,
            count(*) filter (e.{time_column} < k.churn_at - interval 150 day) / 150.0
        from ({CHURNERS}) as k
        join raw.{table} as e on e.customer_id = k.customer_id
        where e.{time_column} < k.churn_at and e.{time_column} >= k.churn_at - interval 300 day
            and {status_filter}
        """,
    )[0]
    assert recent < 0.6 * earlier, f"{table}: activity per day before churn should fall"


def test_repeat_purchases_get_delayed_before_churn(behaviour_db):
    late_gap, early_gap = query(
        behaviour_db,
        f"""
        with gaps as (
            select
                o.ordered_at,
                k.churn_at,
                date_diff('second', lag(o.ordered_at) over w, o.ordered_at) / 86400.0 as gap_days
            from ({CHURNERS}) as k
            join raw.orders as o on o.customer_id = k.customer_id
            where o.status = 'completed' and o.ordered_at < k.churn_at
            window w as (partition by o.customer_id order by o.ordered_at)
        )
        select
            avg(gap_days) filter (ordered_at >= churn_at - interval 90 day),
            avg(gap_days) filter (ordered_at < churn_at - interval 180 day)
        from gaps
        """,
    )[0]
    assert late_gap > 1.2 * early_gap


def test_truth_probability_predicts_the_observed_label(behaviour_db):
    rows = query(
        behaviour_db,
        f"""
        select l.churned, p.p_no_completed_order
        from ({LABELED.replace(AS_OF, "2025-10-01")}) as l
        join truth.churn_probability as p on l.customer_id = p.customer_id
        """,
    )
    labels = [r[0] for r in rows]
    scores = [r[1] for r in rows]
    assert len(rows) > 5000
    assert roc_auc_score(labels, scores) > 0.85
    mean_p = sum(scores) / len(scores)
    assert abs(mean_p - sum(labels) / len(labels)) < 0.03  # calibrated on average
