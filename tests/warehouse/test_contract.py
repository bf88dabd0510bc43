"""The raw contract as Python reads it from the dbt project (sources YAML and vars)."""

from __future__ import annotations

from pathlib import Path

import pytest

from warehouse import contract
from warehouse.contract import (
    ACCEPTED_VALUES,
    EVENT_TIME_COLUMN,
    ID_COLUMN,
    LOADED_AT_COLUMN,
    RAW_SCHEMA,
    RAW_TABLES,
    REJECT_REASONS,
    REQUIRED_RAW_TABLES,
    ContractError,
)

# The contract as it stood when Python kept its own copy: reading it from dbt
# must give the same tables, columns, order and types.
EXPECTED_RAW_TABLES = {
    "customers": {
        "customer_id": "VARCHAR",
        "signup_at": "TIMESTAMP",
        "segment": "VARCHAR",
        "acquisition_channel": "VARCHAR",
        "country": "VARCHAR",
        "_loaded_at": "TIMESTAMP",
    },
    "orders": {
        "order_id": "VARCHAR",
        "customer_id": "VARCHAR",
        "ordered_at": "TIMESTAMP",
        "status": "VARCHAR",
        "order_value": "DOUBLE",
        "discount_amount": "DOUBLE",
        "item_count": "INTEGER",
        "_loaded_at": "TIMESTAMP",
    },
    "site_visits": {
        "visit_id": "VARCHAR",
        "customer_id": "VARCHAR",
        "visited_at": "TIMESTAMP",
        "page_views": "INTEGER",
        "session_seconds": "INTEGER",
        "device": "VARCHAR",
        "_loaded_at": "TIMESTAMP",
    },
    "loyalty_events": {
        "loyalty_event_id": "VARCHAR",
        "customer_id": "VARCHAR",
        "occurred_at": "TIMESTAMP",
        "event_type": "VARCHAR",
        "points": "INTEGER",
        "_loaded_at": "TIMESTAMP",
    },
    "reviews": {
        "review_id": "VARCHAR",
        "customer_id": "VARCHAR",
        "order_id": "VARCHAR",
        "reviewed_at": "TIMESTAMP",
        "rating": "INTEGER",
        "_loaded_at": "TIMESTAMP",
    },
    "support_tickets": {
        "ticket_id": "VARCHAR",
        "customer_id": "VARCHAR",
        "opened_at": "TIMESTAMP",
        "category": "VARCHAR",
        "_loaded_at": "TIMESTAMP",
    },
}


def test_tables_columns_and_types_match_the_former_python_contract():
    assert RAW_TABLES == EXPECTED_RAW_TABLES
    assert list(RAW_TABLES) == list(EXPECTED_RAW_TABLES)
    for table, columns in EXPECTED_RAW_TABLES.items():
        assert list(RAW_TABLES[table]) == list(columns), f"{table}: column order"
    assert RAW_SCHEMA == "raw" and LOADED_AT_COLUMN == "_loaded_at"
    assert REQUIRED_RAW_TABLES == ("orders",)


def test_id_and_event_time_columns():
    first_columns = {t: next(iter(columns)) for t, columns in EXPECTED_RAW_TABLES.items()}
    assert first_columns == ID_COLUMN
    assert EVENT_TIME_COLUMN == {
        "customers": "signup_at",
        "orders": "ordered_at",
        "site_visits": "visited_at",
        "loyalty_events": "occurred_at",
        "reviews": "reviewed_at",
        "support_tickets": "opened_at",
    }
    for table, columns in RAW_TABLES.items():
        assert columns[EVENT_TIME_COLUMN[table]] == "TIMESTAMP"
        assert columns[LOADED_AT_COLUMN] == "TIMESTAMP"


def test_accepted_values_and_reject_reasons_come_from_the_project_vars():
    assert ACCEPTED_VALUES == {
        "orders": {"status": ("completed", "cancelled", "returned")},
        "site_visits": {"device": ("mobile", "desktop", "tablet", "app")},
        "loyalty_events": {"event_type": ("enrolled", "earned", "redeemed", "expired")},
        "support_tickets": {
            "category": ("delivery", "product_quality", "payment", "account", "return_refund")
        },
    }
    for table, columns in ACCEPTED_VALUES.items():
        for column in columns:
            assert RAW_TABLES[table][column] == "VARCHAR", f"{table}.{column}"
    assert "unknown_category" in REJECT_REASONS and "missing_timestamp" in REJECT_REASONS
    assert len(set(REJECT_REASONS)) == len(REJECT_REASONS)


def test_a_missing_contract_file_is_named(tmp_path):
    missing = tmp_path / "_shop__sources.yml"
    with pytest.raises(ContractError, match="raw contract file not found: .*_shop__sources.yml"):
        contract.read_yaml(missing)


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_an_incomplete_contract_names_the_file_and_what_is_missing(tmp_path):
    no_shop = write(tmp_path / "a.yml", "version: 2\nsources:\n  - name: other\n")
    with pytest.raises(ContractError, match=r"a\.yml: no source named 'shop'"):
        contract.shop_source(no_shop)
    untyped = write(
        tmp_path / "b.yml",
        "sources:\n  - name: shop\n    tables:\n      - name: orders\n"
        "        config: {meta: {id_column: order_id, event_time_column: ordered_at,"
        " required: true}}\n        columns:\n          - name: order_id\n",
    )
    with pytest.raises(ContractError, match=r"b\.yml: table orders column has no `data_type`"):
        contract.raw_tables(contract.shop_source(untyped), untyped)
    no_vars = write(tmp_path / "dbt_project.yml", "name: churn\n")
    with pytest.raises(ContractError, match="dbt_project.yml: the file has no `vars`"):
        contract.project_var("reject_reasons", no_vars)
