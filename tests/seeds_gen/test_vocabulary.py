"""The generator's codes and defects against the raw contract read from dbt, and the
simulation steps on a small chunk (no warehouse needed)."""

from __future__ import annotations

from datetime import date

import numpy as np

from seeds_gen.behaviour import (
    TICKET_CATEGORIES,
    BehaviourConfig,
    draw_traits,
    simulate,
    simulate_orders,
    simulate_reviews,
    simulate_tickets,
)
from seeds_gen.defects import (
    CATEGORY_COLUMN,
    NON_FINITE_COLUMN,
    OUT_OF_RANGE_DATE,
    OVERLONG_ID_LENGTH,
    REJECT_REASON,
)
from seeds_gen.generate import CATEGORIES
from warehouse.contract import ACCEPTED_VALUES, RAW_TABLES, REJECT_REASONS, project_var


def test_every_category_value_the_generator_writes_is_accepted():
    assert set(ACCEPTED_VALUES) == set(CATEGORY_COLUMN)
    for table, column in CATEGORY_COLUMN.items():
        assert set(ACCEPTED_VALUES[table]) == {column}, table
        written, unknown = CATEGORIES[column]
        assert set(written) <= set(ACCEPTED_VALUES[table][column]), f"{table}.{column}"
        # The value unknown-category defects write must be one staging rejects.
        assert unknown not in ACCEPTED_VALUES[table][column]
        assert column in RAW_TABLES[table]


def test_every_expected_reject_reason_is_one_staging_gives():
    expected = {reason for reason in REJECT_REASON.values() if reason is not None}
    assert expected <= set(REJECT_REASONS)


def test_out_of_range_defects_are_beyond_the_feature_store_limits():
    assert date.fromisoformat(project_var("earliest_event_date")) > OUT_OF_RANGE_DATE
    assert project_var("max_id_length") < OVERLONG_ID_LENGTH
    assert set(NON_FINITE_COLUMN.items()) <= {
        (table, column)
        for table, columns in RAW_TABLES.items()
        for column, kind in columns.items()
        if kind == "DOUBLE"
    }


def small_chunk(seed: int = 3, n: int = 400):
    cfg = BehaviourConfig()
    rng = np.random.default_rng(seed)
    traits = draw_traits(rng, n, 730.0, cfg)
    return rng, traits, cfg


def test_simulate_is_its_steps_in_order():
    rng, traits, cfg = small_chunk()
    events = simulate(rng, traits, 730.0, cfg)
    again_rng, again_traits, _ = small_chunk()
    orders = simulate_orders(again_rng, again_traits, 730.0, cfg)
    for column, values in orders.items():
        np.testing.assert_array_equal(events["orders"][column], values)
    assert list(events) == ["orders", "site_visits", "loyalty_events", "reviews", "support_tickets"]


def test_orders_reviews_and_tickets_keep_their_invariants():
    rng, traits, cfg = small_chunk()
    orders = simulate_orders(rng, traits, 730.0, cfg)
    key = orders["customer"] * 10_000.0 + orders["at"]
    assert (np.diff(key) >= 0).all(), "orders sorted by customer, then time"
    assert set(np.unique(orders["status"])) <= {0, 1, 2}
    assert (orders["discount_amount"] <= orders["order_value"]).all()

    reviews = simulate_reviews(rng, traits, orders, 730.0)
    assert (orders["status"][reviews["order"]] != 1).all(), "no review of a cancelled order"
    assert ((reviews["rating"] >= 1) & (reviews["rating"] <= 5)).all()
    assert (reviews["at"] < 730.0).all()

    tickets = simulate_tickets(rng, traits, orders, 730.0)
    assert (tickets["at"] < 730.0).all()
    assert set(np.unique(tickets["category"])) <= set(range(len(TICKET_CATEGORIES)))
