"""Regenerate examples/shop_export/: a small shop's exports in its own naming.

    python examples/make_example_export.py

The shop (from the synthetic generator, 2019-2021, so nothing depends on the
default years) exports orders as a semicolon-separated CSV with decimal commas,
local Berlin times, a currency column and its own status names, and web
sessions as Parquet. A few rows are broken on purpose, as real exports are:
the loader must count them and the feature store quarantine them.
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

import duckdb

from seeds_gen.generate import GenerationConfig, generate

OUT = Path(__file__).parent / "shop_export"
GBP_PER_EUR = 0.855  # the shop's UK orders are in pounds; the mapping converts at 1 / this


def main() -> None:
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "shop.duckdb"
        cfg = GenerationConfig(
            customers=800, start=date(2019, 1, 1), end=date(2021, 7, 1), seed=2019
        )
        generate(cfg, db, progress=False)
        with duckdb.connect(str(db)) as con:
            con.execute("set TimeZone = 'Europe/Berlin'")
            # Orders: shop naming, local time as text, status names of the shop,
            # amounts with a decimal comma, UK customers in pounds.
            con.execute(
                f"""
                create table orders_export as
                select
                    'ACME-' || substr(o.order_id, 2) as "Order Number",
                    'cust_' || ltrim(substr(o.customer_id, 2), '0') as "Customer",
                    strftime(timezone('Europe/Berlin', timezone('UTC', o.ordered_at)),
                             '%d/%m/%Y %H:%M') as "Created",
                    case o.status when 'completed' then case when hash(o.order_id) % 3 = 0
                             then 'Shipped' else 'Delivered' end
                         when 'cancelled' then 'Voided' else 'Refunded' end as "State",
                    replace(printf('%.2f', o.order_value * r.rate), '.', ',') as "Total",
                    replace(printf('%.2f', o.discount_amount * r.rate), '.', ',') as "Discount",
                    o.item_count as "Items",
                    r.code as "Currency"
                from raw.orders o
                join raw.customers c using (customer_id)
                cross join lateral (select case when c.country = 'GB' then 'GBP' else 'EUR' end
                    as code, case when c.country = 'GB' then {GBP_PER_EUR} else 1.0 end as rate) r
                order by o.ordered_at, o.order_id
                """
            )
            # Broken rows, as real exports have them: a date that is not one, a
            # status the mapping does not know, and an order without a customer.
            for column, value, rows, offset in [
                ("Created", "not recorded", 3, 100),
                ("State", "Pending payment", 2, 200),
                ("Customer", "", 1, 300),
            ]:
                con.execute(
                    f'update orders_export set "{column}" = ? where "Order Number" in'
                    f' (select "Order Number" from orders_export limit {rows} offset {offset})',
                    [value],
                )
            con.execute(f"copy orders_export to '{OUT / 'orders.csv'}' (header, delimiter ';')")
            # Web sessions: no session id, naive local timestamps, the shop's device names.
            con.execute(
                f"""
                copy (
                    select
                        'cust_' || ltrim(substr(customer_id, 2), '0') as customer,
                        cast(timezone('Europe/Berlin', timezone('UTC', visited_at)) as timestamp)
                            as session_start,
                        page_views as pages,
                        session_seconds as duration_s,
                        case device when 'mobile' then 'Mobile Web' when 'desktop' then 'Desktop'
                             when 'tablet' then 'Tablet' else 'iOS App' end as platform
                    from raw.site_visits
                    order by visited_at, visit_id
                ) to '{OUT / "sessions.parquet"}' (format parquet, compression zstd)
                """
            )
    for path in sorted(OUT.iterdir()):
        print(f"{path}  {path.stat().st_size / 1024:,.0f} KiB")


if __name__ == "__main__":
    main()
